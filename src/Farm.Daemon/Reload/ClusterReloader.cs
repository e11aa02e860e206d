using Farm.Native.Linux;

namespace Farm.Daemon.Reload;

/// <summary>
/// Live changes of the cluster file: node weights and <c>version</c>, nothing else (every other setting is in the
/// configuration hash the nodes compare, and needs a restart). Holds the running cluster file, swapped whole. Two
/// paths: <see cref="Apply"/> (farmctl config apply: a file strictly newer than the running one, written over this
/// node's cluster file) and <see cref="ReloadFromDisk"/> (SIGHUP: the file on disk, not older). Either way this node
/// then announces its own new weight, and the coordinator moves only the difference.
/// </summary>
/// <remarks>
/// A <c>key_file</c> is read relative to this node's cluster file, whatever the file name given to <c>config apply</c>;
/// a reload from disk checks the key's file again as at start (a key that became readable by others is refused).
/// </remarks>
internal sealed partial class ClusterReloader(ClusterFileOptions file, MembershipHost host, ILogger<ClusterReloader> logger, IFileInspector? files = null)
{
    private readonly Lock gate = new();
    private readonly IFileInspector files = files ?? StatxFileInspector.Instance;
    private ClusterConfig running = file.Loaded;

    /// <summary>The cluster file this node runs now.</summary>
    public ClusterConfig Running => Volatile.Read(ref running);

    /// <summary>This node's cluster file (<c>--cluster</c>), absolute.</summary>
    public string FilePath { get; } = Path.GetFullPath(file.Path);

    /// <summary>
    /// The verdict on <paramref name="candidate"/> against <paramref name="current"/>: the problems that refuse it
    /// (empty when it may run) and whether it changes nothing at all. With <paramref name="mustBeNewer"/> (an admin
    /// apply) its version must be greater than the running one, unless it changes nothing; otherwise (a reload from
    /// disk) it must not be lower.
    /// </summary>
    public static (IReadOnlyList<string> Problems, bool Unchanged) Check(ClusterConfig current, ClusterConfig candidate, bool mustBeNewer)
    {
        var diff = ClusterConfigDiff.Compare(current, candidate);
        var problems = new List<string>();
        if (diff.NeedsRestart)
        {
            bool one = diff.RestartKeys.Count == 1;
            problems.Add(
                $"{string.Join(", ", diff.RestartKeys)} {(one ? "differs" : "differ")} from the running cluster file and {(one ? "needs" : "need")} a restart of farmd "
                + "(copy the file to every node, then restart each); only node weights and `version` change live");
        }

        if (diff.IsEmpty)
        {
            return (problems, true);
        }

        if (mustBeNewer && diff.CandidateVersion <= diff.RunningVersion)
        {
            problems.Add($"config version {diff.CandidateVersion} is not newer than the running version {diff.RunningVersion}: raise `version`");
        }
        else if (!mustBeNewer && diff.CandidateVersion < diff.RunningVersion)
        {
            problems.Add($"config version {diff.CandidateVersion} is older than the running version {diff.RunningVersion}: raise `version` to at least {diff.RunningVersion}");
        }

        return (problems, false);
    }

    /// <summary>
    /// farmctl config apply: parses <paramref name="text"/> (errors located in <paramref name="fileName"/>), checks it,
    /// writes it over this node's cluster file and announces this node's weight from it.
    /// </summary>
    public ReloadResult Apply(string text, string fileName, string requestedBy)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fileName);
        lock (gate)
        {
            return RunIfAccepted(
                text, fileName, fromDisk: false,
                problems => Log.ApplyRefused(logger, requestedBy, Running.Version, problems),
                () => Log.ApplyUnchanged(logger, requestedBy, Running.Version),
                candidate =>
                {
                    try
                    {
                        ClusterFileWriter.Replace(FilePath, text);
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        string problem = $"cannot write {FilePath}: {ex.Message} (nothing changed; check the folder's permissions and free space)";
                        Log.ApplyFailed(logger, requestedBy, problem);
                        return Result(ReloadOutcome.Failed, [problem]);
                    }

                    return Run(candidate, $"config apply by {requestedBy}");
                });
        }
    }

    /// <summary>SIGHUP: reads this node's cluster file again and runs it if it passes the same checks (its version may equal the running one).</summary>
    public ReloadResult ReloadFromDisk()
    {
        lock (gate)
        {
            string text;
            try
            {
                text = ConfigFileText.Read(FilePath);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                string problem = $"cannot read {FilePath}: {ex.Message}";
                Log.ReloadRefused(logger, FilePath, Running.Version, problem);
                return Result(ReloadOutcome.Failed, [problem]);
            }

            return RunIfAccepted(
                text, FilePath, fromDisk: true,
                problems => Log.ReloadRefused(logger, FilePath, Running.Version, problems),
                () => Log.ReloadUnchanged(logger, FilePath, Running.Version),
                candidate => Run(candidate, "SIGHUP"));
        }
    }

    /// <summary>
    /// Under the gate: parses and checks a candidate file; from disk (SIGHUP), its key file must be trusted and its version
    /// may equal the running one, else it must be newer. An accepted file goes to <paramref name="run"/>; else the answer
    /// is refused (logged through <paramref name="refused"/>) or unchanged (logged through <paramref name="unchanged"/>).
    /// </summary>
    private ReloadResult RunIfAccepted(
        string text, string fileName, bool fromDisk, Action<string> refused, Action unchanged, Func<ClusterConfig, ReloadResult> run)
    {
        var keyFiles = KeyFileReader.For(FilePath, files);
        var parsed = ConfigParser.ParseCluster(text, fileName, keyFiles);
        if (parsed.Value is not { } candidate)
        {
            refused(string.Join("; ", parsed.Errors));
            return Result(ReloadOutcome.Refused, [.. parsed.Errors.Select(e => e.ToString())]);
        }

        if (fromDisk && !OperatingSystem.IsWindows() && ClusterKeyTrust.Problems(FilePath, candidate, keyFiles, files) is { Count: > 0 } trust)
        {
            refused(string.Join("; ", trust));
            return Result(ReloadOutcome.Refused, trust);
        }

        var (problems, same) = Check(Running, candidate, mustBeNewer: !fromDisk);
        if (problems.Count > 0)
        {
            refused(string.Join("; ", problems));
            return Result(ReloadOutcome.Refused, problems);
        }

        if (same)
        {
            unchanged();
            return Result(ReloadOutcome.Unchanged, []);
        }

        return run(candidate);
    }

    /// <summary>Under the gate: makes <paramref name="candidate"/> the running file and announces this node's weight from it.</summary>
    private ReloadResult Run(ClusterConfig candidate, string source)
    {
        var before = Running;
        int previousWeight = WeightOf(before);
        int weight = WeightOf(candidate);
        Volatile.Write(ref running, candidate);
        host.UpdateSelf(self => self with { Weight = weight });
        Log.Applied(logger, source, before.Version, candidate.Version, previousWeight, weight, FilePath);
        return new ReloadResult(ReloadOutcome.Applied, [], candidate.Version, previousWeight, weight, FilePath);
    }

    private ReloadResult Result(ReloadOutcome outcome, IReadOnlyList<string> errors)
    {
        var current = Running;
        int weight = WeightOf(current);
        return new ReloadResult(outcome, errors, current.Version, weight, weight, FilePath);
    }

    private int WeightOf(ClusterConfig config) => config.Nodes.Single(n => n.Name == file.NodeName).Weight;

    private static partial class Log
    {
        [LoggerMessage(EventId = 500, Level = LogLevel.Information,
            Message = "Cluster file applied ({Source}): version {FromVersion} -> {ToVersion}, this node's weight {FromWeight} -> {ToWeight} ({Path})")]
        public static partial void Applied(ILogger logger, string source, int fromVersion, int toVersion, int fromWeight, int toWeight, string path);

        [LoggerMessage(EventId = 501, Level = LogLevel.Warning,
            Message = "Config apply by {RequestedBy} refused, still running version {Version}: {Problems}")]
        public static partial void ApplyRefused(ILogger logger, string requestedBy, int version, string problems);

        [LoggerMessage(EventId = 502, Level = LogLevel.Information, Message = "Config apply by {RequestedBy}: version {Version} with these weights already runs, nothing to do")]
        public static partial void ApplyUnchanged(ILogger logger, string requestedBy, int version);

        [LoggerMessage(EventId = 503, Level = LogLevel.Error, Message = "Config apply by {RequestedBy} failed: {Problem}")]
        public static partial void ApplyFailed(ILogger logger, string requestedBy, string problem);

        [LoggerMessage(EventId = 504, Level = LogLevel.Warning,
            Message = "Reload of {Path} on SIGHUP refused, still running version {Version}: {Problems}")]
        public static partial void ReloadRefused(ILogger logger, string path, int version, string problems);

        [LoggerMessage(EventId = 505, Level = LogLevel.Information, Message = "Reload of {Path} on SIGHUP: version {Version} with these weights already runs, nothing to do")]
        public static partial void ReloadUnchanged(ILogger logger, string path, int version);
    }
}

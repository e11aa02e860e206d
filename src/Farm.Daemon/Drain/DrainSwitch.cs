using Farm.Native.Linux;

namespace Farm.Daemon.Drain;

/// <summary>
/// What this node announces as <c>Leaving</c>: an admin drain (<c>farmctl drain</c>/<c>resume</c>) and a shutdown,
/// kept apart. Either one makes the node leave; <see cref="Resume"/> ends only the drain, so it never cancels the
/// leave of a stopping farmd, and a drained node that is stopped still leaves. An admin drain is kept in a file of the
/// state folder (<see cref="FileOf"/>) while it lasts, so a farmd restarted meanwhile (crash, upgrade, reboot) comes
/// back drained instead of taking a share the admin took away.
/// </summary>
internal sealed class DrainSwitch
{
    /// <summary>The file name's prefix in the state folder; the node's name follows.</summary>
    public const string FilePrefix = "drained-";

    private readonly MembershipHost host;
    private readonly string? file;
    private readonly Lock gate = new();

    // Written under the gate, read without it: status reads them inside the membership lock, which UpdateSelf takes
    // inside the gate, so reading under the gate there could deadlock.
    private bool drained;
    private bool stopping;

    /// <summary>
    /// Starts with the drain kept in <paramref name="file"/> (null: not kept): when the file is there, the node is
    /// drained from its first heartbeat on.
    /// </summary>
    public DrainSwitch(MembershipHost host, string? file = null)
    {
        this.host = host ?? throw new ArgumentNullException(nameof(host));
        this.file = file;
        if (file is not null && PrivateFiles.ReadNoFollow(file, 256, StatxFileInspector.Instance) is not null)
        {
            drained = true;
            Restored = true;
            host.UpdateSelf(self => self with { Leaving = true });
        }
    }

    /// <summary>The state file of <paramref name="node"/>'s drain in <paramref name="stateDirectory"/>.</summary>
    public static string FileOf(string stateDirectory, string node) => Path.Combine(stateDirectory, FilePrefix + node);

    /// <summary>True when this run started drained because the previous run was (its file was there).</summary>
    public bool Restored { get; }

    /// <summary>Why the last drain or resume could not be kept in the state folder, or null.</summary>
    public string? KeepProblem { get; private set; }

    /// <summary>True while an admin drain is in force (until <see cref="Resume"/>, also across restarts when kept).</summary>
    public bool IsDrained => Volatile.Read(ref drained);

    /// <summary>True once farmd began to stop.</summary>
    public bool IsStopping => Volatile.Read(ref stopping);

    /// <summary>Starts an admin drain; false when the node was drained already (nothing changes).</summary>
    public bool Drain() => Set(drain: true, stop: null);

    /// <summary>Ends an admin drain; false when the node was not drained (nothing changes).</summary>
    public bool Resume() => Set(drain: false, stop: null);

    /// <summary>farmd stops: the node leaves, whatever the drain says.</summary>
    public void LeaveForShutdown() => Set(drain: null, stop: true);

    private bool Set(bool? drain, bool? stop)
    {
        lock (gate)
        {
            bool nextDrained = drain ?? drained;
            bool nextStopping = stop ?? stopping;
            if (nextDrained == drained && nextStopping == stopping)
            {
                return false;
            }

            if (nextDrained != drained)
            {
                Keep(nextDrained);
            }

            Volatile.Write(ref drained, nextDrained);
            Volatile.Write(ref stopping, nextStopping);
            bool leaving = nextDrained || nextStopping;
            host.UpdateSelf(self => self with { Leaving = leaving });
            return true;
        }
    }

    /// <summary>Writes or removes the drain's file; a failure is kept in <see cref="KeepProblem"/> (the drain itself holds).</summary>
    private void Keep(bool drain)
    {
        if (file is null)
        {
            return;
        }

        try
        {
            if (drain)
            {
                PrivateFiles.WriteAtomic(file, "drained by an admin; 'farmctl resume' ends it\n"u8);
            }
            else
            {
                File.Delete(file);
            }

            KeepProblem = null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            KeepProblem = $"cannot {(drain ? "write" : "remove")} {file}: {ex.Message}";
        }
    }
}

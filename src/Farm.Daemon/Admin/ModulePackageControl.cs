using Farm.Core.Bundles;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Admin;

/// <summary>
/// Answers <c>ManageModulePackage</c>: installs a bundle, rolls a module back, removes it or lists the modules, on this
/// node (<see cref="ModuleStore"/> on disk, then <see cref="ModuleHost.ReloadAsync"/> live) and, for a call over the
/// local socket, on the other nodes named, through the same relay as module actions and config applies. Every node
/// verifies the bundle itself. One package action at a time per node; installs and rollbacks go node after node.
/// </summary>
internal sealed partial class ModulePackageControl(NodeRoster roster, ModuleStore? store, ModuleFolderReload? folderReload, ModuleHost modules, AdminRelay relay, ILogger<ModulePackageControl> logger) : IDisposable
{
    /// <summary>Largest bundle accepted: gRPC's default message limit is 4 MiB, and the relay seals the bundle inside another message.</summary>
    public const int MaxBundleBytes = 3 << 20;

    /// <summary>How long a relayed action may take: a reload drains the module (up to its drain timeout) and waits for it to settle.</summary>
    public static readonly TimeSpan RelayTimeout = TimeSpan.FromMinutes(3);

    private readonly SemaphoreSlim oneAtATime = new(1, 1);

    /// <summary>Runs the query; <paramref name="mayRelay"/> is false over TCP (a node then acts only on itself).</summary>
    /// <exception cref="RpcException">INVALID_ARGUMENT: no action, a missing bundle or module name, unknown nodes, relaying asked over TCP.</exception>
    public async Task<Wire.ModulePackageAnswer> HandleAsync(Wire.ModulePackageQuery query, bool mayRelay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var errors = new List<string>();
        switch (query.Action)
        {
            case Wire.ModulePackageAction.Install when query.Bundle.IsEmpty:
                errors.Add("install needs the bundle's bytes");
                break;
            case Wire.ModulePackageAction.Install when query.Bundle.Length > MaxBundleBytes:
                errors.Add($"the bundle has {query.Bundle.Length} bytes, more than {MaxBundleBytes}: keep data out of the module (install it with the application)");
                break;
            case Wire.ModulePackageAction.Reload when query.Module.Length > 0 && !ConfigNames.IsValid(query.Module):
            case Wire.ModulePackageAction.Rollback or Wire.ModulePackageAction.Remove when !ConfigNames.IsValid(query.Module):
                errors.Add($"'{query.Module}' is not a module name");
                break;
            case Wire.ModulePackageAction.Unspecified:
                errors.Add("no action: install, rollback, remove, reload or list");
                break;
        }

        string self = roster.Self;
        var targets = roster.Targets(query.Nodes, query.AllNodes, mayRelay, errors);

        if (errors.Count > 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, string.Join("; ", errors)));
        }

        var forward = query.Clone();
        forward.Nodes.Clear();
        forward.AllNodes = false;
        Task<Wire.ModulePackageResult> Run(string node) => node == self ? LocalAsync(query, cancellationToken) : RelayAsync(node, forward, cancellationToken);
        var answer = new Wire.ModulePackageAnswer();
        if (query.Action is Wire.ModulePackageAction.Install or Wire.ModulePackageAction.Rollback or Wire.ModulePackageAction.Reload)
        {
            // A rolling reload, one node after the other: while one node drains and restarts the module, the others
            // serve its buckets, so the module stays served throughout.
            foreach (string node in targets)
            {
                answer.Results.Add(await Run(node));
            }
        }
        else
        {
            answer.Results.Add(await Task.WhenAll(targets.Select(Run)));
        }

        return answer;
    }

    private async Task<Wire.ModulePackageResult> RelayAsync(string node, Wire.ModulePackageQuery forward, CancellationToken cancellationToken)
    {
        var (answer, error) = await relay.CallAsync(
            node, MethodPaths.ManageModulePackage, forward, async (c, e, o) => (await c.ManageModulePackageAsync(new Wire.ModulePackageRequest { Sealed = e }, o)).Sealed,
            Wire.ModulePackageAnswer.Parser, RelayTimeout, cancellationToken);
        return error is not null ? new Wire.ModulePackageResult { Node = node, Error = error }
            : answer!.Results.FirstOrDefault(r => r.Node == node) ?? new Wire.ModulePackageResult { Node = node, Error = $"{node} answered without its own result" };
    }

    private async Task<Wire.ModulePackageResult> LocalAsync(Wire.ModulePackageQuery query, CancellationToken cancellationToken)
    {
        var result = new Wire.ModulePackageResult { Node = roster.Self };
        await oneAtATime.WaitAsync(cancellationToken);
        try
        {
            if (store is null || OperatingSystem.IsWindows())
            {
                throw new ModuleStoreException("this farmd has no modules folder (start it with --modules DIR, /etc/farm/modules by default)");
            }

            string by = query.RequestedBy.Length > 0 ? query.RequestedBy : "an admin";
            switch (query.Action)
            {
                case Wire.ModulePackageAction.Install:
                    var (bundle, problems) = ModuleBundle.Read(new MemoryStream(query.Bundle.ToByteArray(), writable: false), "bundle");
                    if (bundle is null)
                    {
                        throw new ModuleStoreException($"the bundle is refused: {string.Join("; ", problems)}");
                    }

                    result.Outcome = store.Install(bundle);
                    Log.Installed(logger, bundle.Manifest.Name, bundle.Manifest.Version, bundle.Hash, result.Outcome, by);
                    result.Detail = result.Outcome == "unchanged" && modules.RunningFolderOf(bundle.Manifest.Name) == store.FolderOf(bundle.Manifest.Name, bundle.Manifest.Version)
                        ? "already running"
                        : await modules.ReloadAsync(bundle.Manifest.Name, store.FolderOf(bundle.Manifest.Name, bundle.Manifest.Version), cancellationToken);
                    break;

                case Wire.ModulePackageAction.Rollback:
                    string version = store.Rollback(query.Module);
                    result.Outcome = "rolled back to " + version;
                    Log.RolledBack(logger, query.Module, version, by);
                    result.Detail = await modules.ReloadAsync(query.Module, store.FolderOf(query.Module, version), cancellationToken);
                    break;

                case Wire.ModulePackageAction.Remove:
                    _ = store.CurrentVersion(query.Module) ?? throw new ModuleStoreException(
                        $"{query.Module} is not a module installed from a bundle on this node: a folder copied by hand is removed by hand (see farmctl module list)");
                    // Unloaded first: its stop scripts run from the folder about to be deleted.
                    result.Detail = await modules.ReloadAsync(query.Module, null, cancellationToken);
                    store.Remove(query.Module);
                    result.Outcome = "removed";
                    Log.Removed(logger, query.Module, by);
                    break;

                case Wire.ModulePackageAction.Reload:
                    var (done, refused) = await folderReload!.RunAsync(query.Module.Length > 0 ? query.Module : null, by, cancellationToken);
                    result.Outcome = "folder read";
                    result.Detail = string.Join("; ", done);
                    result.Error = string.Join("; ", refused);
                    break;

                default:
                    result.Outcome = "listed";
                    break;
            }

            result.Modules.Add(List(store));
        }
        catch (ModuleStoreException ex)
        {
            Log.Refused(logger, query.Action.ToString().ToLowerInvariant(), ex.Message);
            result.Error = ex.Message;
        }
        finally
        {
            oneAtATime.Release();
        }

        return result;
    }

    public void Dispose() => oneAtATime.Dispose();

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private IEnumerable<Wire.InstalledModule> List(ModuleStore store)
    {
        var running = modules.Snapshot().ToDictionary(m => m.Config.Name, StringComparer.Ordinal);
        foreach (var (name, folder, version, hash, previous, problems) in store.List())
        {
            string? runningFolder = modules.RunningFolderOf(name);
            string state = problems.Count > 0 ? "modified: " + string.Join("; ", problems)
                : runningFolder is null ? "not loaded"
                : running.TryGetValue(name, out var m) ? $"{m.Status.State.ToString().ToUpperInvariant()}/{m.Status.SubState}" : "not loaded";
            yield return new Wire.InstalledModule
            {
                Module = name,
                Version = version ?? "",
                Hash = hash ?? "",
                PreviousVersion = previous ?? "",
                State = state,
                RunningVersion = runningFolder is null ? "" : version is null ? "(folder)" : Path.GetDirectoryName(runningFolder) == Path.GetDirectoryName(folder) ? Path.GetFileName(runningFolder) : "(folder)",
            };
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3410, Level = LogLevel.Information, Message = "Bundle {Module} {Version} ({Hash}) {Outcome}, asked by {RequestedBy}")]
        public static partial void Installed(ILogger logger, string module, string version, string hash, string outcome, string requestedBy);

        [LoggerMessage(EventId = 3411, Level = LogLevel.Information, Message = "Module {Module} rolled back to {Version}, asked by {RequestedBy}")]
        public static partial void RolledBack(ILogger logger, string module, string version, string requestedBy);

        [LoggerMessage(EventId = 3412, Level = LogLevel.Information, Message = "Module {Module} removed, asked by {RequestedBy}")]
        public static partial void Removed(ILogger logger, string module, string requestedBy);

        [LoggerMessage(EventId = 3413, Level = LogLevel.Warning, Message = "Module {Action} refused: {Reason}")]
        public static partial void Refused(ILogger logger, string action, string reason);
    }
}

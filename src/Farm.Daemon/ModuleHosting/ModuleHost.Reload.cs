using Farm.Daemon.Reload;
using Farm.Native.Linux;

namespace Farm.Daemon.ModuleHosting;

/// <summary>Live reload and unload of one module (module install, rollback and remove), without touching the others.</summary>
internal sealed partial class ModuleHost
{
    /// <summary>How long a reload waits for the new version to settle (UP/Ready, or a blocked state) before answering.</summary>
    public static readonly TimeSpan ReloadSettleWait = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs module <paramref name="name"/> from <paramref name="folder"/> (its farm.yaml already checked), or unloads it
    /// when <paramref name="folder"/> is null. A running module is drained first: its traffic gate closes, so membership
    /// hands its buckets to the other nodes as a drain does (established connections finish here up to
    /// <c>timeouts.drain</c>), then its stop scripts run; then the folder is swapped and the module starts again and
    /// reopens. Other modules are not touched. Returns what happened, for the admin.
    /// </summary>
    public async Task<string> ReloadAsync(string name, string? folder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        var entry = entries.FirstOrDefault(e => e.Config.Name == name);
        if (folder is null)
        {
            if (entry is null || entry.Removed)
            {
                return "was not loaded";
            }

            await UnloadAsync(entry, "module removed", cancellationToken);
            entry.Removed = true;
            dataPlane?.StopModule(name);
            Log.Unloaded(entry.Logger, name);
            return "drained, stopped and unloaded";
        }

        var parsed = ConfigParser.ParseModule(ConfigFileText.Read(Path.Combine(folder, "farm.yaml")), Path.Combine(folder, "farm.yaml"));
        if (parsed.Value is not { } next)
        {
            throw new ModuleStoreException(string.Join("; ", parsed.Errors));
        }

        if (entry is null)
        {
            Log.NotLoaded(logger, name, folder);
            return "not loaded: a module this farmd did not start with is loaded at its next start (all nodes must run the same modules)";
        }

        if (settings.Refused.ContainsKey(name))
        {
            return "not loaded: the module was refused at start (its old folder was not root's own); restart farmd to load the new version";
        }

        if (ModuleReloadPlan.RestartNeeded(entry.Config, next) is { Count: > 0 } changes)
        {
            string list = string.Join(", ", changes);
            Log.NeedsRestart(entry.Logger, name, list);
            return $"not reloaded: {list} changed, which farmd reads only at start; restart farmd on each node, one at a time "
                + "(farmctl drain NODE --wait; systemctl restart farmd; farmctl resume NODE)";
        }

        bool wasRunning = !entry.Removed && entry.Manager is { } running && !running.Status.IsStopped;
        Log.Reloading(entry.Logger, name, entry.Directory, folder);
        if (entry.Manager is not null)
        {
            await UnloadAsync(entry, "module reload", cancellationToken);
        }

        entry.Config = next;
        entry.Directory = folder;
        entry.Removed = false;
        if (!wasRunning)
        {
            Log.Reloaded(entry.Logger, name, "stopped");
            return "swapped (the module was not running: start it with farmctl start)";
        }

        try
        {
            dataPlane?.StartModule(name);
        }
        catch (InvalidOperationException ex)
        {
            return $"swapped, but not started: {ex.Message}";
        }

        var manager = Manager(entry);
        manager.Start("module reload");
        await manager.FlushAsync(cancellationToken);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(ReloadSettleWait);
        try
        {
            var status = await manager.WaitForStatusAsync(s => s.SubState != ModuleSubState.Transient, bounded.Token);
            Log.Reloaded(entry.Logger, name, status.ToString());
            return $"reloaded: drained, stopped, swapped, started ({status.State.ToString().ToUpperInvariant()}/{status.SubState})";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"reloaded: drained, stopped, swapped, still starting after {ReloadSettleWait.TotalSeconds:0} s (see farmctl status)";
        }
    }

    /// <summary>The folder module <paramref name="name"/> runs from, or null when it is not loaded.</summary>
    public string? RunningFolderOf(string name) =>
        entries.FirstOrDefault(e => e.Config.Name == name && !e.Removed) is { } entry && Directory.Exists(entry.Directory) ? entry.Directory : null;

    /// <summary>Stops the module (traffic closed and handed over first), waits, and disposes its manager.</summary>
    private async Task UnloadAsync(Entry entry, string reason, CancellationToken cancellationToken)
    {
        entry.DataPlaneStop?.Cancel();
        entry.DataPlaneStop = null;
        if (entry.Manager is not { } manager)
        {
            return;
        }

        await manager.StopAndWaitAsync(reason, cancellationToken);
        manager.StatusChanged -= OnStatusChanged;
        lock (entry)
        {
            entry.Manager = null;
        }

        await manager.DisposeAsync();
        lock (primaryLock)
        {
            entry.AskedPrimary = false;
            entry.SeenView = null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3400, Level = LogLevel.Information, Message = "Module {Module}: reloading from {To} (was {From}): draining, stopping, swapping, starting")]
        public static partial void Reloading(ILogger logger, string module, string from, string to);

        [LoggerMessage(EventId = 3401, Level = LogLevel.Information, Message = "Module {Module} reloaded: {Status}")]
        public static partial void Reloaded(ILogger logger, string module, string status);

        [LoggerMessage(EventId = 3402, Level = LogLevel.Warning, Message = "Module {Module}: the installed version changes {Settings}, read only at start; it runs after farmd restarts")]
        public static partial void NeedsRestart(ILogger logger, string module, string settings);

        [LoggerMessage(EventId = 3403, Level = LogLevel.Information, Message = "Module {Module} removed: drained, stopped and unloaded")]
        public static partial void Unloaded(ILogger logger, string module);

        [LoggerMessage(EventId = 3404, Level = LogLevel.Information, Message = "Module {Module} installed in {Folder}; not loaded: farmd loads a new module at its next start")]
        public static partial void NotLoaded(ILogger logger, string module, string folder);
    }
}

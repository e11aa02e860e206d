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
    /// reopens. A new version that changes the bucket table or the kernel filter (<see cref="ModuleReloadPlan"/>) has its
    /// data plane torn down and rebuilt and its new definition announced in between; a module farmd did not run is
    /// loaded the same way. Other modules are not touched. Returns what happened, for the admin.
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
            host.SetModule(name, null); // no definition announced any more: the view keeps no table for it once no node runs it
            Log.Unloaded(entry.Logger, name);
            return "drained, stopped and unloaded";
        }

        string file = Path.Combine(folder, ModuleFolders.DefinitionFile);
        string text = ConfigFileText.Read(file);
        var parsed = ConfigParser.ParseModule(text, file);
        if (parsed.Value is not { } next)
        {
            throw new ModuleStoreException(string.Join("; ", parsed.Errors));
        }

        if (settings.Refused.ContainsKey(name))
        {
            return "not loaded: the module was refused at start (its old folder was not root's own); restart farmd to load the new version";
        }

        if (entry is null)
        {
            entry = CreateEntry(next);
            entry.Directory = folder;
            entry.Definition = text;
            Log.Loading(entry.Logger, name, folder);
            Redefine(entry, next);
            ImmutableInterlocked.Update(ref entries, list => list.Add(entry));
            return await StartReloadedAsync(entry, "module loaded", "loaded: started", cancellationToken);
        }

        var changes = ModuleReloadPlan.Reshaping(entry.Config, next);
        bool wasRunning = !entry.Removed && entry.Manager is { } running && !running.Status.IsStopped;
        Log.Reloading(entry.Logger, name, entry.Directory, folder, changes.Count == 0 ? "none" : string.Join(", ", changes));
        if (entry.Manager is not null)
        {
            await UnloadAsync(entry, "module reload", cancellationToken);
        }

        bool wasRemoved = entry.Removed;
        entry.Directory = folder;
        entry.Definition = text;
        entry.Removed = false;
        if (changes.Count > 0 || wasRemoved)
        {
            // The buckets went to the peers with the close; now the old filter goes, and the new one starts fail-closed.
            dataPlane?.StopModule(name);
            Redefine(entry, next);
        }

        entry.Config = next;
        if (!wasRunning && !wasRemoved)
        {
            Log.Reloaded(entry.Logger, name, "stopped");
            return "swapped (the module was not running: start it with farmctl start)";
        }

        string rebuilt = changes.Count > 0 ? $" ({string.Join(", ", changes)} changed: data plane rebuilt)" : "";
        return await StartReloadedAsync(entry, "module reload", $"reloaded: drained, stopped, swapped{rebuilt}, started", cancellationToken);
    }

    /// <summary>
    /// Gives every part of farmd that binds a module's definition the new one, while the module is stopped and its data
    /// plane removed: membership (table shape, announced definition), the data plane, the drain scans, the traffic gate.
    /// </summary>
    private void Redefine(Entry entry, ModuleConfig next)
    {
        host.SetModule(next.Name, Hosting.FarmNode.SpecOf(next));
        dataPlane?.Configure(next);
        Drains?.Configure(next);
        entry.Gate.Module = next;
        entry.Config = next;
    }

    /// <summary>Starts the data plane and the module's manager, and waits (bounded) for the module to settle.</summary>
    private async Task<string> StartReloadedAsync(Entry entry, string reason, string done, CancellationToken cancellationToken)
    {
        string name = entry.Config.Name;
        try
        {
            dataPlane?.StartModule(name);
        }
        catch (InvalidOperationException ex)
        {
            return $"swapped, but not started: {ex.Message}";
        }

        var manager = Manager(entry);
        manager.Start(reason);
        await manager.FlushAsync(cancellationToken);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(ReloadSettleWait);
        try
        {
            var status = await manager.WaitForStatusAsync(s => s.SubState != ModuleSubState.Transient, bounded.Token);
            Log.Reloaded(entry.Logger, name, status.ToString());
            return $"{done} ({status.State.ToString().ToUpperInvariant()}/{status.SubState})";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"{done}, still starting after {ReloadSettleWait.TotalSeconds:0} s (see farmctl status)";
        }
    }

    /// <summary>The folder module <paramref name="name"/> runs from, or null when it is not loaded.</summary>
    public string? RunningFolderOf(string name) =>
        entries.FirstOrDefault(e => e.Config.Name == name && !e.Removed) is { } entry && Directory.Exists(entry.Directory) ? entry.Directory : null;

    /// <summary>The modules loaded (not removed), by name: what each runs, from which folder, read from which farm.yaml text.</summary>
    public IReadOnlyDictionary<string, ModuleFolderReload.Loaded> Loaded() =>
        entries.Where(e => !e.Removed).ToDictionary(e => e.Config.Name, e => new ModuleFolderReload.Loaded(e.Config, e.Directory, e.Definition), StringComparer.Ordinal);

    /// <summary>Stops the module (traffic closed and handed over first), waits, and disposes its manager.</summary>
    private async Task UnloadAsync(Entry entry, string reason, CancellationToken cancellationToken)
    {
        entry.DataPlaneStop?.Cancel();
        entry.DataPlaneStop = null;
        if (entry.Manager is not { } manager)
        {
            return;
        }

        // A reload (and an unload) lets this node's connections end first, as a drain does; then the stop scripts run.
        entry.Gate.WaitsForDrain = true;
        try
        {
            await manager.StopAndWaitAsync(reason, cancellationToken);
        }
        finally
        {
            entry.Gate.WaitsForDrain = false;
        }

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
        [LoggerMessage(EventId = 3400, Level = LogLevel.Information, Message = "Module {Module}: reloading from {To} (was {From}; table and filter settings changed: {Reshaped}): draining, stopping, swapping, starting")]
        public static partial void Reloading(ILogger logger, string module, string from, string to, string reshaped);

        [LoggerMessage(EventId = 3401, Level = LogLevel.Information, Message = "Module {Module} reloaded: {Status}")]
        public static partial void Reloaded(ILogger logger, string module, string status);

        [LoggerMessage(EventId = 3403, Level = LogLevel.Information, Message = "Module {Module} removed: drained, stopped and unloaded")]
        public static partial void Unloaded(ILogger logger, string module);

        [LoggerMessage(EventId = 3404, Level = LogLevel.Information, Message = "Module {Module}: loading from {Folder} (farmd did not run it): data plane, definition announced, start")]
        public static partial void Loading(ILogger logger, string module, string folder);
    }
}

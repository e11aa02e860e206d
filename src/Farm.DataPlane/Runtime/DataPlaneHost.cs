using Farm.Core.Config;
using System.Net;
using Farm.DataPlane.Filtering;
using Microsoft.Extensions.Logging;

namespace Farm.DataPlane.Runtime;

/// <summary>
/// Drives every module's data plane from membership: starts them (after removing a crashed run's leftovers), applies
/// each new ownership snapshot, extends the kernel lease, and stops them in reverse order.
/// </summary>
/// <remarks>
/// One lock serializes the applies and lease refreshes; a module started or stopped live builds or takes down its plane
/// outside it (a second lock orders those), so the modules that serve never wait for the nft and ip tools. Applies
/// (~0.5 ms) run on the thread that produced the snapshot (a tick, a Prepare's or Commit's handler) before it sends
/// anything: a Prepare is acknowledged only once the released buckets drain in the kernel. Older snapshots are
/// ignored, a failed apply is retried on every publish and tick, a failing module is left out. Fail-closed: a module
/// whose apply or lease refresh the kernel refused loses its lease at once until the filter was rebuilt and an apply
/// succeeded; <see cref="HealthChanged"/> lets the traffic gate hand its buckets on.
/// </remarks>
public sealed partial class DataPlaneHost : IOwnershipSink, IDisposable
{
    private readonly Lock gate = new();

    /// <summary>
    /// Serializes building and taking down a module's plane (<see cref="StartModule"/>, <see cref="StopModule"/>,
    /// <see cref="Stop"/>), which run tools outside <see cref="gate"/>. Taken before <see cref="gate"/>, never under it.
    /// </summary>
    private readonly Lock planes = new();
    private readonly IDataPlaneBackend backend;
    private readonly ILogger logger;
    private readonly List<ModuleEntry> entries;
    private OwnershipSnapshot? latest;
    private OwnershipSnapshot? lastApplied;
    private Action? applied;
    private bool started;
    private bool stopped;

    public DataPlaneHost(IReadOnlyList<ModuleConfig> modules, IDataPlaneBackend backend, ILogger<DataPlaneHost> logger)
    {
        ArgumentNullException.ThrowIfNull(modules);
        this.backend = backend ?? throw new ArgumentNullException(nameof(backend));
        this.logger = logger ?? throw new ArgumentNullException(nameof(logger));
        entries = [.. modules.Select(m => new ModuleEntry(m))];
    }

    /// <summary>The clock a lease refresh measures its own delay with. Default: the system's.</summary>
    public TimeProvider Time { private get; init; } = TimeProvider.System;

    /// <summary>Deletes the conntrack entries this node may no longer trust, around each apply (null: nothing is deleted).</summary>
    public StaleEntryCleaner? Cleaner { private get; init; }

    /// <summary>The newest snapshot every running module's kernel state follows (null before the first).</summary>
    public OwnershipSnapshot? LastApplied
    {
        get
        {
            lock (gate)
            {
                return lastApplied;
            }
        }
    }

    /// <summary>
    /// Raised, on a thread-pool thread (never under this host's lock), when a module's kernel stops or starts again to
    /// take its bucket sets: (module, true) once an apply succeeds after failures, (module, false) when one fails.
    /// </summary>
    public event Action<string, bool>? HealthChanged;

    /// <summary>Calls <paramref name="callback"/> (quick, no I/O: e.g. a wake-up) each time a newer snapshot is applied.</summary>
    public void OnApplied(Action callback) => applied += callback ?? throw new ArgumentNullException(nameof(callback));

    /// <summary>The data plane state of <paramref name="module"/>; null for a module not configured.</summary>
    public ModuleDataPlaneStatus? StatusOf(string module)
    {
        lock (gate)
        {
            return entries.Find(e => e.Config.Name == module) is { } e
                ? new ModuleDataPlaneStatus(e.Config.Name, e.State, e.Reason, e.AppliedVersion, e.AppliedEpoch)
                : null;
        }
    }

    /// <summary>
    /// The kernel filter counters of <paramref name="module"/> (packets and bytes since its filter was installed), or
    /// null while its data plane does not run. Read under the host's lock, so the filter cannot be removed meanwhile; a
    /// scrape thus delays a lease refresh by one counter listing at most.
    /// </summary>
    public FilterCounters? CountersOf(string module)
    {
        lock (gate)
        {
            return entries.Find(e => e.Config.Name == module)?.Plane is { } plane ? plane.ReadCounters() : null;
        }
    }

    /// <summary>
    /// Removes what a crashed run left, then starts every module (fail-closed until the first lease); returns the names
    /// of the modules that run. A module that fails to start is logged with the reason and left out.
    /// </summary>
    /// <exception cref="DataPlaneUnavailableException">Modules are configured but the data plane cannot run here (not root, a library missing).</exception>
    public IReadOnlyList<string> Start()
    {
        lock (planes)
        lock (gate)
        {
            if (started)
            {
                throw new InvalidOperationException("The data plane was already started.");
            }

            started = true;
            if (backend.MissingPrerequisite() is { } missing)
            {
                if (entries.Count > 0)
                {
                    throw new DataPlaneUnavailableException(missing);
                }

                // Nothing to serve, and no right to look for leftovers: nothing to do.
                Log.Skipped(logger, missing);
                return [];
            }

            foreach (string leftover in backend.RemoveLeftovers())
            {
                Log.LeftoverRemoved(logger, leftover);
            }

            foreach (var entry in entries)
            {
                if (StartPlane(entry) is not null)
                {
                    entry.State = ModuleDataPlaneState.Failed;
                }
            }

            ApplyLatest();
            return [.. entries.Where(e => e.State == ModuleDataPlaneState.Running).Select(e => e.Config.Name)];
        }
    }

    /// <summary>
    /// An admin stopped <paramref name="module"/> here: removes its data plane (responder, VIPs with their sysctls and
    /// neighbour entries, filter tables), so the node is as it was before the module, until <see cref="StartModule"/>.
    /// Call it once the module's buckets went to the peers (its traffic gate closed). Nothing to do when not running.
    /// </summary>
    public void StopModule(string module)
    {
        lock (planes)
        {
            IModuleDataPlane plane;
            lock (gate)
            {
                if (entries.Find(e => e.Config.Name == module) is not { Plane: { } running } entry)
                {
                    return;
                }

                // Detached first, under the lock: no apply or lease refresh reaches it from here on. The tools that take
                // it down then run outside the lock (see StartModule).
                plane = Detach(entry, running);
                entry.Reason = "stopped with the module (farmctl start recreates it)";
                entry.AppliedVersion = -1;
                entry.KernelFailing = false;
            }

            StopPlane(module, plane);
            plane.Dispose();
        }
    }

    /// <summary>Adds <paramref name="module"/> live, or redefines one whose data plane does not run; <see cref="StartModule"/> builds it.</summary>
    public void Configure(ModuleConfig module)
    {
        ArgumentNullException.ThrowIfNull(module);
        lock (planes) // not while StartModule builds the entry it would replace
        {
            lock (gate)
            {
                if (entries.Find(e => e.Config.Name == module.Name) is { } old && (old.Plane is not null || !entries.Remove(old)))
                {
                    throw new InvalidOperationException($"the data plane of module {module.Name} runs: stop it first");
                }

                entries.Add(new ModuleEntry(module) { State = ModuleDataPlaneState.Stopped });
            }
        }
    }

    /// <summary>
    /// Recreates the data plane of a module <see cref="StopModule"/> removed, fail-closed until the next lease refresh,
    /// with the latest bucket sets. Nothing to do when it runs. Throws when it cannot start (the reason is in status).
    /// </summary>
    /// <remarks>
    /// The plane is built outside the lock every apply and lease refresh takes: it runs nft and ip (tens of
    /// milliseconds, seconds on a starved machine), and the modules that already serve must not wait for it. They did:
    /// a module installed live held every lease for 1.9 s, and the other module's checker timed out and restarted its
    /// application (ModuleBundleTests, CI, 2026-12-05).
    /// </remarks>
    public void StartModule(string module)
    {
        lock (planes)
        {
            ModuleEntry entry;
            lock (gate)
            {
                if (stopped || entries.Find(e => e.Config.Name == module) is not { Plane: null, State: ModuleDataPlaneState.Stopped } found)
                {
                    return;
                }

                entry = found;
            }

            IModuleDataPlane plane;
            try
            {
                plane = CreatePlane(entry.Config);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                lock (gate)
                {
                    StartFailed(entry, e);
                }

                throw new InvalidOperationException($"the data plane of module {module} could not start: {e.Message}", e);
            }

            lock (gate)
            {
                Attach(entry, plane); // Stop waits for this lock holder: the host is not stopped meanwhile
                ApplyLatest();
            }
        }
    }

    /// <summary>
    /// Whether the kernel accepts the traffic of the buckets membership gives <paramref name="module"/> here. Balance
    /// modules always do. A <c>single</c> module starts not accepting: its owned buckets stay out of the kernel's sets
    /// until start_prim succeeded (true), and leave them when the node stops being the primary (false). Returns once
    /// the kernel holds the change; throws <see cref="InvalidOperationException"/> when it could not be applied.
    /// </summary>
    public void SetAccepting(string module, bool accepting)
    {
        lock (gate)
        {
            var entry = entries.FirstOrDefault(e => e.Config.Name == module);
            if (entry is null || entry.Accepting == accepting)
            {
                return;
            }

            entry.Accepting = accepting;
            entry.AppliedVersion = -1; // re-apply the latest snapshot through the new filter
            if (stopped || entry.Plane is null)
            {
                return;
            }

            ApplyLatest();
            if (entry.KernelFailing)
            {
                throw new InvalidOperationException($"module {module}: {entry.Reason}");
            }

            Log.AcceptingChanged(logger, module, accepting ? "accepts" : "no longer accepts", entry.AppliedEpoch);
        }
    }

    /// <inheritdoc />
    public void Publish(OwnershipSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        long began = Time.GetTimestamp();
        TimeSpan compiled = System.Runtime.JitInfo.GetCompilationTime(currentThread: true);
        Cleaner?.Settle(snapshot); // conntrack deletions the apply must wait for, off the lock the lease refresh needs
        long settled = Time.GetTimestamp();
        long locked;
        lock (gate)
        {
            locked = Time.GetTimestamp();
            if (latest is null || snapshot.Version > latest.Version)
            {
                latest = snapshot;
            }

            if (!stopped)
            {
                ApplyLatest();
            }
        }

        // Where a slow publish spent its time: it holds up the message that waits for it (a Prepare's acknowledgement, a commit's).
        var took = Time.GetElapsedTime(began);
        if (took >= SlowPublish)
        {
            Log.SlowPublish(logger, snapshot.Version, took.TotalMilliseconds, Time.GetElapsedTime(began, settled).TotalMilliseconds,
                Time.GetElapsedTime(settled, locked).TotalMilliseconds, Time.GetElapsedTime(locked).TotalMilliseconds,
                (System.Runtime.JitInfo.GetCompilationTime(currentThread: true) - compiled).TotalMilliseconds);
        }
    }

    /// <inheritdoc />
    public void RefreshLease(TimeSpan duration)
    {
        long asked = Time.GetTimestamp();
        lock (gate)
        {
            if (stopped)
            {
                return;
            }

            // Retries a failed apply first: its module's lease waits for it. Otherwise the thread that published applies:
            // an apply here could wait for conntrack deletions (StaleEntryCleaner.BeforeApply) and hold every lease.
            // Refreshing while a newer snapshot is still being applied is safe: the kernel holds the older sets, and a
            // release is acknowledged (Prepare) only once applied, so no other node serves what they still accept.
            if (entries.Exists(e => e.KernelFailing))
            {
                ApplyLatest();
            }

            foreach (var entry in entries)
            {
                // Fail closed: a module whose kernel does not hold the latest bucket sets gets no lease, so it serves
                // nothing rather than buckets the farm has given to others.
                if (entry.Plane is not { } plane || entry.KernelFailing)
                {
                    continue;
                }

                // What is left of the caller's lease: this lock (an apply on another thread) or the apply above may have held
                // the call, and the kernel must not serve past the membership's expiry. Less than the kernel's one
                // millisecond left: it lapses (a 0.998 ms refresh threw, was taken for a refused kernel and failed the
                // module closed: chaos soak, 2026-12-05, seed 34, 51 buckets without a leased acceptor for 2.3 s).
                var left = duration - Time.GetElapsedTime(asked);
                if (left < NftRuleset.MinLease)
                {
                    Log.LeaseTooLate(logger, entry.Config.Name, Time.GetElapsedTime(asked).TotalMilliseconds);
                    continue;
                }

                try
                {
                    plane.RefreshLease(left);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // A lease the kernel refuses is a kernel the node cannot program: fail closed as for a refused apply.
                    Refused(entry, plane, "lease refresh failed: " + e.Message, e);
                }
            }
        }
    }

    /// <summary>Stops every running module in reverse start order (responder, VIPs, filter); idempotent.</summary>
    public void Stop()
    {
        lock (planes) // after a module's start or stop in progress
        {
            lock (gate)
            {
                if (stopped)
                {
                    return;
                }

                stopped = true;
                for (int i = entries.Count - 1; i >= 0; i--)
                {
                    if (entries[i].Plane is { } plane)
                    {
                        StopPlane(entries[i].Config.Name, Detach(entries[i], plane));
                    }
                }
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => Stop();

    /// <summary>Creates and starts the module's data plane (fail-closed) into <paramref name="entry"/>; the failure, logged and in the reason, or null.</summary>
    private Exception? StartPlane(ModuleEntry entry)
    {
        try
        {
            Attach(entry, CreatePlane(entry.Config));
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            StartFailed(entry, e);
            return e;
        }
    }

    /// <summary>The entry's plane could not start: the reason in status, and the log (under the lock).</summary>
    private void StartFailed(ModuleEntry entry, Exception e)
    {
        entry.Reason = "start failed: " + e.Message;
        Log.ModuleStartFailed(logger, entry.Config.Name, e.Message, e);
    }

    /// <summary>Creates and starts a module's data plane, fail-closed (a plane that fails half-way takes itself down).</summary>
    private IModuleDataPlane CreatePlane(ModuleConfig config)
    {
        var plane = backend.Create(config);
        plane.Start();
        Cleaner?.Started(config); // fail-closed now: no entry of an earlier run can let a packet in
        return plane;
    }

    /// <summary>A started plane serves the entry from now on (under the lock): the next apply gives it its sets.</summary>
    private void Attach(ModuleEntry entry, IModuleDataPlane plane)
    {
        entry.Plane = plane;
        entry.State = ModuleDataPlaneState.Running;
        entry.Reason = null;
        Log.ModuleStarted(logger, entry.Config.Name, entry.Config.Interface, string.Join(", ", entry.Config.Vips));
    }

    /// <summary>The entry no longer has a plane (under the lock): no apply or lease refresh reaches <paramref name="plane"/>.</summary>
    private static IModuleDataPlane Detach(ModuleEntry entry, IModuleDataPlane plane)
    {
        entry.Plane = null;
        entry.State = ModuleDataPlaneState.Stopped;
        return plane;
    }

    /// <summary>Stops a module's data plane (responder, VIPs, filter); a failure is logged, the next start undoes what is left.</summary>
    private void StopPlane(string module, IModuleDataPlane plane)
    {
        try
        {
            plane.Stop();
            Log.ModuleStopped(logger, module);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.ModuleStopFailed(logger, module, e);
        }
    }

    /// <summary>The bucket sets of <paramref name="module"/> in <paramref name="snapshot"/>, with the flows peers still serve.</summary>
    internal static BucketAssignment AssignmentOf(OwnershipSnapshot snapshot, string module)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        long epoch = snapshot.View?.Epoch ?? 0;
        if (!snapshot.Modules.TryGetValue(module, out var states))
        {
            return BucketAssignment.Empty(epoch);
        }

        var foreign = states.ForeignFlows.Select(f => new IPEndPoint(f.Address, f.Port));
        return new BucketAssignment(
            epoch, states.BucketsIn(BucketState.Owned), states.BucketsIn(BucketState.Incoming), states.BucketsIn(BucketState.Draining),
            states.BucketsIn(BucketState.Claimed), foreign);
    }

    private void ApplyLatest()
    {
        if (latest is not { } snapshot)
        {
            return;
        }

        bool all = true;
        foreach (var entry in entries)
        {
            if (entry.Plane is not { } plane || entry.AppliedVersion >= snapshot.Version)
            {
                continue;
            }

            var assignment = entry.Accepting ? AssignmentOf(snapshot, entry.Config.Name) : BucketAssignment.Empty(snapshot.View?.Epoch ?? 0);
            long cleaning = Time.GetTimestamp();
            var unserved = Cleaner?.BeforeApply(entry.Config, entry.Accepting, snapshot) ?? [];
            long writing = Time.GetTimestamp();
            try
            {
                if (entry.KernelFailing)
                {
                    // The kernel refused an update: whatever it holds under the module's name may be gone or not ours
                    // (a firewall reload that flushed the ruleset, a table replaced by another program). Build the
                    // filter afresh, fail-closed, then apply; a kernel that still refuses fails here again.
                    plane.Reinstall();
                }

                plane.Apply(assignment);
                entry.AppliedVersion = snapshot.Version;
                entry.AppliedEpoch = assignment.Epoch;
                if (entry.KernelFailing)
                {
                    entry.KernelFailing = false;
                    entry.Reason = null;
                    Log.ApplyRecovered(logger, entry.Config.Name, assignment.Epoch);
                    RaiseHealthChanged(entry.Config.Name, healthy: true);
                }

                Log.Applied(logger, entry.Config.Name, snapshot.Version, assignment.Epoch, assignment.Owned.Count, assignment.Incoming.Count,
                    assignment.Claimed.Count, assignment.Draining.Count, Time.GetElapsedTime(cleaning, writing).TotalMilliseconds,
                    Time.GetElapsedTime(writing).TotalMilliseconds);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                all = false;
                Refused(entry, plane, $"apply of ownership version {snapshot.Version} failed: {e.Message}", e);
            }

            Cleaner?.AfterApply(entry.Config.Name, unserved); // applied, or the lease withdrawn: not served either way
        }

        // Drain reports may only speak for a snapshot the kernel holds everywhere.
        if (all && (lastApplied is null || snapshot.Version > lastApplied.Version))
        {
            lastApplied = snapshot;
            applied?.Invoke();
        }
    }

    /// <summary>
    /// The kernel refused an update of the module (bucket sets or lease): withdraws its lease at once, and on the first
    /// failure of a streak logs it and tells the traffic gate, which announces the module not ready so the peers take
    /// its buckets. Every later tick retries (reinstall, apply, lease) until the kernel takes it again.
    /// </summary>
    private void Refused(ModuleEntry entry, IModuleDataPlane plane, string what, Exception exception)
    {
        entry.AppliedVersion = -1; // the next tick retries, even without a newer snapshot
        bool first = !entry.KernelFailing;
        if (first)
        {
            entry.KernelFailing = true;
            entry.Reason = what + "; lease withheld: the module serves nothing here until the kernel takes its filter again";
            Log.KernelRefused(logger, entry.Config.Name, what, exception);
            RaiseHealthChanged(entry.Config.Name, healthy: false);
        }

        WithdrawLease(entry.Config.Name, plane, logFailure: first);
    }

    /// <summary>
    /// Ends the module's kernel lease now (a lease of <see cref="WithdrawnLease"/>): the kernel keeps bucket sets the
    /// farm may already have given to others, and this thread may be about to acknowledge that. If even that fails,
    /// the lease runs out by itself within one lease duration, since it is no longer refreshed.
    /// </summary>
    private void WithdrawLease(string module, IModuleDataPlane plane, bool logFailure)
    {
        try
        {
            plane.RefreshLease(WithdrawnLease);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Once per refusal streak: a kernel that refuses everything is retried ten times a second.
            if (logFailure)
            {
                Log.WithdrawFailed(logger, module, e.Message);
            }
        }
    }

    private void RaiseHealthChanged(string module, bool healthy)
    {
        if (HealthChanged is { } handlers)
        {
            // Off this lock: handlers announce readiness through membership, which must never wait for the data plane.
            ThreadPool.QueueUserWorkItem(static state => state.Handlers(state.Module, state.Healthy), (Handlers: handlers, Module: module, Healthy: healthy), preferLocal: false);
        }
    }

    /// <summary>The lease a failed apply leaves: expired at once.</summary>
    internal static readonly TimeSpan WithdrawnLease = TimeSpan.FromMilliseconds(1);

    /// <summary>A publish at least this long logs where its time went (Debug): enough to matter on a hand-over's path.</summary>
    internal static readonly TimeSpan SlowPublish = TimeSpan.FromMilliseconds(20);
}

using System.Collections.Immutable;
using Farm.Core.Config;
using Farm.DataPlane.Conntrack;
using Microsoft.Extensions.Logging;

namespace Farm.DataPlane.Runtime;

/// <summary>
/// Tells membership how this node's drains progress. After each snapshot the kernel applied, and every
/// <c>period</c> while buckets drain (else its thread sleeps until the next snapshot), it reads the connections the kernel tracks and reports, per module, which
/// draining buckets still hold a live one and the UDP flows among them (so their new owner does not answer those).
/// A drain whose bucket holds nothing any more ends at once; peers learn it from the next heartbeat, sent right away.
/// </summary>
/// <remarks>
/// Runs on a thread of its own so a Prepare's acknowledgement never waits for conntrack. One full dump when buckets
/// begin to drain, then per-flow lookups of what it found (see <see cref="Refresh"/>). A report speaks only
/// for a snapshot that <see cref="DataPlaneHost.LastApplied"/> says every module's kernel state follows: a bucket
/// draining there took no new connection since, so "no live connection now" stays true.
/// </remarks>
public sealed partial class DrainMonitor : IDisposable
{
    private readonly DataPlaneHost dataPlane;
    private readonly IDrainReportSink host;
    private readonly IConntrackTable conntrack;
    private readonly ILogger logger;
    private ImmutableSortedDictionary<string, DrainScanner> scanners;
    private readonly PeriodicThread loop;
    private readonly Dictionary<string, Dictionary<int, List<TrackedFlow>>> tracked = new(StringComparer.Ordinal);
    private long reportedVersion = -1;
    private bool readFailing;

    public DrainMonitor(
        DataPlaneHost dataPlane, IDrainReportSink host, IReadOnlyList<ModuleConfig> modules, IConntrackTable conntrack, TimeSpan period, ILogger<DrainMonitor> logger)
    {
        ArgumentNullException.ThrowIfNull(modules);
        this.dataPlane = dataPlane ?? throw new ArgumentNullException(nameof(dataPlane));
        this.host = host ?? throw new ArgumentNullException(nameof(host));
        this.conntrack = conntrack ?? throw new ArgumentNullException(nameof(conntrack));
        this.logger = logger ?? throw new ArgumentNullException(nameof(logger));
        scanners = modules.ToImmutableSortedDictionary(m => m.Name, m => new DrainScanner(m), StringComparer.Ordinal);
        loop = new PeriodicThread("farm-drains", period, Check, e => Log.CheckFailed(this.logger, e));
        dataPlane.OnApplied(loop.Wake);
    }

    public void Start() => loop.Start();

    /// <summary>Module <paramref name="module"/> was loaded or redefined live: its drains are scanned with its new hash from now on.</summary>
    public void Configure(ModuleConfig module) =>
        ImmutableInterlocked.Update(ref scanners, s => s.SetItem(module.Name, new DrainScanner(module)));

    public void Stop() => loop.Stop();

    public void Dispose()
    {
        loop.Dispose();
        (conntrack as IDisposable)?.Dispose();
    }

    /// <summary>
    /// One look: reports when a newer snapshot was applied or buckets drain. True while buckets drain (look again after
    /// the period); false when nothing drains: the next look is the next applied snapshot's wake-up. Tests call it directly.
    /// </summary>
    public bool Check()
    {
        if (dataPlane.LastApplied is not { } applied)
        {
            return false;
        }

        bool draining = applied.Modules.Values.Any(m => m.Draining > 0);
        if (!draining && applied.Version == reportedVersion)
        {
            return false;
        }

        bool known = draining && Refresh(applied);
        var scans = new Dictionary<string, ModuleDrainScan>(StringComparer.Ordinal);
        foreach (var (name, states) in applied.Modules)
        {
            if (states.Draining == 0)
            {
                scans[name] = new ModuleDrainScan(ImmutableHashSet<int>.Empty, []);
            }
            else if (known && tracked.TryGetValue(name, out var buckets))
            {
                var busy = buckets.Where(kv => kv.Value.Count > 0).Select(kv => kv.Key).ToHashSet();
                var udp = buckets.Values.SelectMany(f => f).Where(f => f.Protocol == TransportProtocol.Udp)
                    .Select(f => new FlowKey(f.Source, f.SourcePort)).Distinct().ToList();
                scans[name] = new ModuleDrainScan(busy, [.. udp]);
            }
        }

        host.ReportDrains(applied, scans);
        reportedVersion = applied.Version;
        return draining;
    }

    /// <summary>
    /// Brings <see cref="tracked"/> up to date for the draining buckets of <paramref name="applied"/>: a full dump when a
    /// bucket began to drain since the last one (new flows cannot enter a draining bucket, so the dump lists all it will
    /// ever hold), else a lookup of the flows still tracked (a dump walks the kernel's whole table, ~15 ms; a lookup
    /// costs ~3.5 µs per flow). False when conntrack could not be read: every drain then counts as busy.
    /// </summary>
    private bool Refresh(OwnershipSnapshot applied)
    {
        try
        {
            bool needDump = false;
            foreach (var (name, states) in applied.Modules)
            {
                var draining = states.Draining == 0 ? [] : states.BucketsIn(BucketState.Draining).ToHashSet();
                var buckets = tracked.GetValueOrDefault(name);
                if (buckets is not null)
                {
                    foreach (int gone in buckets.Keys.Where(b => !draining.Contains(b)).ToList())
                    {
                        buckets.Remove(gone);
                    }
                }

                needDump |= draining.Any(b => buckets is null || !buckets.ContainsKey(b));
            }

            if (needDump)
            {
                Dump(applied);
            }
            else
            {
                Lookup();
            }

            if (readFailing)
            {
                readFailing = false;
                Log.DumpRecovered(logger);
            }

            return true;
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            if (!readFailing)
            {
                readFailing = true;
                Log.DumpFailed(logger, e);
            }

            tracked.Clear(); // start over with a dump once the table can be read again
            return false;
        }
    }

    private void Dump(OwnershipSnapshot applied)
    {
        var flows = conntrack.Dump();
        tracked.Clear();
        foreach (var (name, states) in applied.Modules)
        {
            if (states.Draining == 0 || !scanners.TryGetValue(name, out var scanner))
            {
                continue;
            }

            var buckets = tracked[name] = states.BucketsIn(BucketState.Draining).ToDictionary(b => b, _ => new List<TrackedFlow>());
            foreach (var flow in flows)
            {
                if (flow.Live && scanner.BucketOf(flow) is int b && buckets.TryGetValue(b, out var list))
                {
                    list.Add(flow);
                }
            }
        }
    }

    private void Lookup()
    {
        var lists = tracked.Values.SelectMany(m => m.Values).Where(l => l.Count > 0).ToList();
        var all = lists.SelectMany(l => l).ToList();
        if (all.Count == 0)
        {
            return;
        }

        var now = conntrack.Lookup(all);
        int i = 0;
        foreach (var list in lists)
        {
            int count = list.Count;
            var kept = new List<TrackedFlow>(count);
            for (int k = 0; k < count; k++, i++)
            {
                if (now[i] is { Live: true } current)
                {
                    kept.Add(current);
                }
            }

            list.Clear();
            list.AddRange(kept);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 420, Level = LogLevel.Warning, Message = "Reading the connection tracking table failed: drains end at their timeout until it works again")]
        public static partial void DumpFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 421, Level = LogLevel.Information, Message = "The connection tracking table can be read again: drains end when their last connection does")]
        public static partial void DumpRecovered(ILogger logger);

        [LoggerMessage(EventId = 422, Level = LogLevel.Error, Message = "Drain check failed; retrying")]
        public static partial void CheckFailed(ILogger logger, Exception exception);
    }
}

using System.Collections.Immutable;
using Farm.Cluster.Membership;
using Farm.Core.Config;
using Farm.Daemon.Membership;
using Farm.DataPlane.Conntrack;
using Microsoft.Extensions.Logging;

namespace Farm.Daemon.DataPlane;

/// <summary>
/// Tells membership how this node's drains progress. After each snapshot the kernel applied, and every
/// <c>period</c> while buckets drain, it reads the connections the kernel tracks and reports, per module, which
/// draining buckets still hold a live one and the UDP flows among them (so their new owner does not answer those).
/// A drain whose bucket holds nothing any more ends at once; peers learn it from the next heartbeat, sent right away.
/// </summary>
/// <remarks>
/// Runs on a thread of its own so a Prepare's acknowledgement never waits for a conntrack dump. A report speaks only
/// for a snapshot that <see cref="DataPlaneHost.LastApplied"/> says every module's kernel state follows: a bucket
/// draining there took no new connection since, so "no live connection now" stays true.
/// </remarks>
internal sealed partial class DrainMonitor : IDisposable
{
    private readonly DataPlaneHost dataPlane;
    private readonly MembershipHost host;
    private readonly IConntrackTable conntrack;
    private readonly TimeSpan period;
    private readonly ILogger logger;
    private readonly ImmutableSortedDictionary<string, DrainScanner> scanners;
    private readonly AutoResetEvent wake = new(false);
    private volatile bool stopping;
    private Thread? thread;
    private long reportedVersion = -1;
    private bool dumpFailing;

    public DrainMonitor(
        DataPlaneHost dataPlane, MembershipHost host, IReadOnlyList<ModuleConfig> modules, IConntrackTable conntrack, TimeSpan period, ILogger<DrainMonitor> logger)
    {
        ArgumentNullException.ThrowIfNull(modules);
        this.dataPlane = dataPlane ?? throw new ArgumentNullException(nameof(dataPlane));
        this.host = host ?? throw new ArgumentNullException(nameof(host));
        this.conntrack = conntrack ?? throw new ArgumentNullException(nameof(conntrack));
        this.period = period;
        this.logger = logger ?? throw new ArgumentNullException(nameof(logger));
        scanners = modules.ToImmutableSortedDictionary(m => m.Name, m => new DrainScanner(m), StringComparer.Ordinal);
        dataPlane.OnApplied(() => wake.Set());
    }

    public void Start()
    {
        thread = new Thread(Run) { IsBackground = true, Name = "farm-drains" };
        thread.Start();
    }

    public void Stop()
    {
        stopping = true;
        wake.Set();
        if (thread is { } t && t != Thread.CurrentThread)
        {
            t.Join();
        }
    }

    public void Dispose()
    {
        Stop();
        wake.Dispose();
        (conntrack as IDisposable)?.Dispose();
    }

    /// <summary>One look: reports when a newer snapshot was applied or buckets drain. Tests call it directly.</summary>
    public void Check()
    {
        if (dataPlane.LastApplied is not { } applied)
        {
            return;
        }

        bool draining = applied.Modules.Values.Any(m => m.Draining > 0);
        if (!draining && applied.Version == reportedVersion)
        {
            return;
        }

        IReadOnlyList<TrackedFlow>? flows = null;
        if (draining)
        {
            try
            {
                flows = conntrack.Dump();
                if (dumpFailing)
                {
                    dumpFailing = false;
                    Log.DumpRecovered(logger);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Without the table every drain counts as busy: they end at their timeout, never early.
                if (!dumpFailing)
                {
                    dumpFailing = true;
                    Log.DumpFailed(logger, e);
                }
            }
        }

        var scans = new Dictionary<string, ModuleDrainScan>(StringComparer.Ordinal);
        foreach (var (name, states) in applied.Modules)
        {
            if (states.Draining == 0)
            {
                scans[name] = new ModuleDrainScan(ImmutableHashSet<int>.Empty, ReadOnlyMemory<byte>.Empty);
            }
            else if (flows is not null && scanners.TryGetValue(name, out var scanner))
            {
                var scan = scanner.Scan(flows, states.BucketsIn(BucketState.Draining));
                scans[name] = new ModuleDrainScan(scan.BusyBuckets, scan.UdpFlows.IsEmpty ? ReadOnlyMemory<byte>.Empty : FlowKeyCodec.Encode(scan.UdpFlows));
            }
        }

        host.ReportDrains(applied, scans);
        reportedVersion = applied.Version;
    }

    private void Run()
    {
        while (!stopping)
        {
            wake.WaitOne(period);
            if (stopping)
            {
                break;
            }

            try
            {
                Check();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.CheckFailed(logger, e);
            }
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

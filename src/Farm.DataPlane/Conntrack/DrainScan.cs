using System.Collections.Immutable;

namespace Farm.DataPlane.Conntrack;

/// <summary>What a node still serves in the buckets it is draining, from one conntrack dump (see <see cref="DrainScanner"/>).</summary>
public sealed class DrainScan
{
    /// <summary>Creates a scan result.</summary>
    public DrainScan(IReadOnlySet<int> busyBuckets, ImmutableArray<FlowKey> udpFlows, int liveFlowCount)
    {
        ArgumentNullException.ThrowIfNull(busyBuckets);
        BusyBuckets = busyBuckets;
        UdpFlows = udpFlows.IsDefault ? [] : udpFlows;
        LiveFlowCount = liveFlowCount;
    }

    /// <summary>A scan that found nothing: every draining bucket is idle.</summary>
    public static DrainScan Empty { get; } = new(ImmutableHashSet<int>.Empty, [], 0);

    /// <summary>The draining buckets that hold at least one live flow; a draining bucket not in here may be released.</summary>
    public IReadOnlySet<int> BusyBuckets { get; }

    /// <summary>
    /// Client endpoints (source address, source port) of the live UDP flows in draining buckets: distinct, IPv4 before
    /// IPv6, then by address bytes and port. The new owner must not answer these while the drain lasts.
    /// </summary>
    public ImmutableArray<FlowKey> UdpFlows { get; }

    /// <summary>How many live flows (TCP and UDP) the draining buckets hold, for status and logs.</summary>
    public int LiveFlowCount { get; }

    /// <inheritdoc />
    public override string ToString() => $"{BusyBuckets.Count} busy draining buckets, {LiveFlowCount} live flows, {UdpFlows.Length} UDP client endpoints";
}

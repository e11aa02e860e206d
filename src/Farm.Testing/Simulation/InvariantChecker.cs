using Farm.Cluster.Membership;
using Farm.Core.Config;

namespace Farm.Testing.Simulation;


/// <summary>
/// The two safety/liveness invariants of the membership protocol, checked after every simulated event:
/// (a) no two nodes accept new flows of one bucket at the same instant, except, under split-brain policy none, two
/// nodes that a partition separated and that have not shared an installed view since (each side serves by design
/// until the merge commits);
/// (c) a bucket a node still drains is owned whole by no other node whose installed view lists it (both would answer
/// its connections);
/// (b) no bucket stays without an accepting node for longer than the detection timeout plus a few heartbeat
/// intervals while the network is whole (for majority: while a majority is up);
/// (d) no two nodes whose definitions of the module differ accept new flows of it at the same instant (same exemption
/// as (a)).
/// </summary>
public sealed class InvariantChecker
{
    private readonly SimCluster sim;
    private readonly TimeSpan?[] orphanSince;
    private readonly TimeSpan startedAt;

    public InvariantChecker(SimCluster sim)
    {
        this.sim = sim;
        orphanSince = new TimeSpan?[sim.Modules[0].BucketCount];
        startedAt = sim.Now;
        NetworkChangedAt = sim.Now;
    }

    /// <summary>Set by the fault scheduler whenever it changes links, loss or node states.</summary>
    public TimeSpan NetworkChangedAt { get; set; }

    /// <summary>Longest time any bucket went without an acceptor while (b) applied.</summary>
    public TimeSpan LongestOrphan { get; private set; }

    public int Checks { get; private set; }

    public TimeSpan OrphanBound => sim.Options.DetectionTimeout + sim.Options.HeartbeatInterval * (sim.Loss > 0 ? 20 : 10);

    public void Check()
    {
        Checks++;
        var now = sim.Now;
        int buckets = orphanSince.Length;
        var first = new SimNode?[buckets];
        foreach (var node in sim.Nodes)
        {
            if (!node.KernelAccepts(now))
            {
                continue;
            }

            var states = node.Manager!.Ownership.Modules[SimCluster.Module].States;
            for (int b = 0; b < Math.Min(buckets, states.Length); b++) // a node may define another bucket count
            {
                if (states[b] is not (BucketState.Owned or BucketState.Incoming or BucketState.Claimed))
                {
                    continue;
                }

                if (first[b] is { } other)
                {
                    bool exempt = sim.Options.SplitBrainPolicy == SplitBrainPolicy.None &&
                                  sim.SeparatedAndNotMerged(other.Name, node.Name);
                    if (!exempt)
                    {
                        throw new InvariantViolationException(
                            $"(a) bucket {b} accepted by {other.Name} and {node.Name} at {now.TotalMilliseconds} ms\n{sim.Describe()}");
                    }
                }
                else
                {
                    first[b] = node;
                }
            }
        }

        // (c) a bucket that a leased node still drains (it serves the connections it tracks) is owned whole by no other
        // leased node: that one would answer the drained connections' packets too (with resets).
        var drainer = new SimNode?[buckets];
        foreach (var node in sim.Nodes)
        {
            if (node.KernelAccepts(now) && node.Manager is { } m)
            {
                var states = m.Ownership.Modules[SimCluster.Module].States;
                for (int b = 0; b < Math.Min(buckets, states.Length); b++) // a node may define another bucket count
                {
                    if (states[b] == BucketState.Draining)
                    {
                        drainer[b] = node;
                    }
                }
            }
        }

        foreach (var node in sim.Nodes)
        {
            if (!node.KernelAccepts(now) || node.Manager is not { } m)
            {
                continue;
            }

            var states = m.Ownership.Modules[SimCluster.Module].States;
            for (int b = 0; b < Math.Min(buckets, states.Length); b++) // a node may define another bucket count
            {
                // Only a drainer the owner's installed view lists: one it left out lost its lease when it was left out
                // (or, under policy none, was separated), and the owner answered that node's connections since.
                if (states[b] == BucketState.Owned && drainer[b] is { } d && d != node && m.Installed?.Contains(d.Manager!.Self) == true &&
                    !(sim.Options.SplitBrainPolicy == SplitBrainPolicy.None && sim.SeparatedAndNotMerged(d.Name, node.Name)))
                {
                    throw new InvariantViolationException(
                        $"(c) bucket {b} draining on {d.Name} and owned by {node.Name} at {now.TotalMilliseconds} ms\n{sim.Describe()}");
                }
            }
        }

        CheckOneDefinition(now);
        bool applies = LivenessApplies(now);

        // The table's shape (a module redefined live may have fewer buckets than at the start).
        int shape = sim.Nodes.Max(n => n.Manager?.Installed?.Tables.GetValueOrDefault(SimCluster.Module)?.BucketCount ?? 0);
        for (int b = 0; b < buckets; b++)
        {
            if (first[b] is not null || !applies || b >= (shape == 0 ? buckets : shape))
            {
                orphanSince[b] = first[b] is null ? now : null;
                continue;
            }

            orphanSince[b] ??= now;
            var orphaned = now - orphanSince[b]!.Value;
            if (orphaned > LongestOrphan)
            {
                LongestOrphan = orphaned;
            }

            if (orphaned > OrphanBound)
            {
                throw new InvariantViolationException(
                    $"(b) bucket {b} had no accepting node for {orphaned.TotalMilliseconds} ms (bound {OrphanBound.TotalMilliseconds} ms) at {now.TotalMilliseconds} ms\n{sim.Describe()}");
            }
        }
    }

    /// <summary>
    /// (d) no two leased nodes whose definitions of the module differ accept new flows of it at the same instant (their
    /// buckets hash clients differently, so any two buckets may hold the same client), with the exemption of (a).
    /// </summary>
    private void CheckOneDefinition(TimeSpan now)
    {
        SimNode? serving = null;
        foreach (var node in sim.Nodes)
        {
            if (!node.KernelAccepts(now) || node.Manager is not { } m || m.Ownership.Modules[SimCluster.Module] is { Owned: 0, Incoming: 0, Claimed: 0 })
            {
                continue;
            }

            if (serving is null)
            {
                serving = node;
                continue;
            }

            if (serving.Manager!.Self.DefinitionOf(SimCluster.Module)?.Hash != m.Self.DefinitionOf(SimCluster.Module)?.Hash &&
                !(sim.Options.SplitBrainPolicy == SplitBrainPolicy.None && sim.SeparatedAndNotMerged(serving.Name, node.Name)))
            {
                throw new InvariantViolationException(
                    $"(d) {serving.Name} and {node.Name} serve module {SimCluster.Module} with different definitions at {now.TotalMilliseconds} ms\n{sim.Describe()}");
            }
        }
    }

    private bool LivenessApplies(TimeSpan now)
    {
        var settle = sim.Options.DetectionTimeout * 2 + sim.Options.HeartbeatInterval * 10;
        // A farm starting with no view listens for its start-up grace (at least 2 s) before it forms one.
        var start = sim.Options.StartupGrace + sim.Options.HeartbeatInterval * 10;
        if (now - startedAt < (start > settle ? start : settle) || sim.AnyBlocked || now - NetworkChangedAt < settle / 2)
        {
            return false;
        }

        int up = sim.Nodes.Count(n => n.State == SimNodeState.Up);
        return sim.Options.SplitBrainPolicy switch
        {
            SplitBrainPolicy.Majority => up * 2 > sim.Nodes.Length,
            SplitBrainPolicy.Witness => up > 0,
            _ => up > 0,
        };
    }
}

using System.Collections.Immutable;
using Farm.Cluster.Membership;
using Farm.Core.Config;

namespace Farm.Testing.Simulation;

/// <summary>
/// The data plane under the simulation, one UDP flow per bucket: its client sends all the time, every node sees every
/// datagram and judges it as the nft ruleset does (<c>NftRuleset</c>'s admit chain): owned accepts, incoming accepts
/// what the node tracks and new flows that no member reported, claimed and draining accept only what the node tracks.
/// A node that accepts a datagram answers it and tracks the flow from then on (conntrack keeps an answered UDP flow for
/// minutes, longer than any simulated run, also while the bucket is not the node's), unless it deletes the entry as
/// farmd's data plane does (<see cref="StaleEntryPolicy"/>: all at each start of a run, a bucket's when it becomes none,
/// the served buckets' when it claims buckets after it was out of the view). A node whose process is gone answers
/// nothing. Each node's drain monitor reports the flows it tracks in the buckets it drains. After every event, invariant (e): no flow is answered by two nodes (with the exemption of (a): nodes a
/// partition separated under policy none).
/// </summary>
public sealed class FlowModel
{
    private readonly SimCluster sim;
    private readonly Dictionary<string, HashSet<int>> tracked = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DataPlaneRun> runs = new(StringComparer.Ordinal);

    /// <summary>Models the flows of <paramref name="sim"/> (which reports them with its drain tracking).</summary>
    public FlowModel(SimCluster sim)
    {
        ArgumentNullException.ThrowIfNull(sim);
        this.sim = sim;
        foreach (var node in sim.Nodes)
        {
            tracked[node.Name] = [];
        }
    }

    /// <summary>The client end of the flow in <paramref name="bucket"/> (198.18.x.y, port 40000 + bucket).</summary>
    public static FlowKey KeyOf(int bucket) => new(new IPAddress([198, 18, (byte)(bucket >> 8), (byte)bucket]), 40000 + bucket);

    /// <summary>True when <paramref name="node"/> tracks the flow of <paramref name="bucket"/> (drain monitor: busy).</summary>
    public bool Tracks(string node, int bucket) => tracked[node].Contains(bucket);

    /// <summary>The flows <paramref name="node"/> tracks among <paramref name="buckets"/>, as its drain monitor reports them.</summary>
    public ImmutableArray<FlowKey> FlowsIn(string node, IEnumerable<int> buckets) => [.. buckets.Where(b => Tracks(node, b)).Select(KeyOf)];

    /// <summary>
    /// Each node's data plane takes its latest ownership (deleting the entries <see cref="StaleEntryPolicy"/> says), then
    /// one datagram of every flow reaches every node; throws when two nodes answer one flow.
    /// </summary>
    public void Check()
    {
        var now = sim.Now;
        int buckets = sim.Modules[0].BucketCount;
        foreach (var node in sim.Nodes)
        {
            DeleteStaleEntries(node);
        }

        var acceptors = new List<string>();
        for (int b = 0; b < buckets; b++)
        {
            acceptors.Clear();
            foreach (var node in sim.Nodes)
            {
                if (node.Manager is { } m && node.KernelAccepts(now) && Accepts(node.Name, m.Ownership.Modules[SimCluster.Module], b))
                {
                    acceptors.Add(node.Name);
                }
            }

            foreach (var name in acceptors)
            {
                tracked[name].Add(b);
            }

            for (int i = 1; i < acceptors.Count; i++)
            {
                if (!(sim.Options.SplitBrainPolicy == SplitBrainPolicy.None && sim.SeparatedAndNotMerged(acceptors[0], acceptors[i])))
                {
                    throw new InvariantViolationException(
                        $"(e) the flow of bucket {b} answered by {string.Join(" and ", acceptors)} at {now.TotalMilliseconds} ms " +
                        $"({string.Join(", ", acceptors.Select(a => $"{a}: {sim[a].Manager!.Ownership.Modules[SimCluster.Module][b]}"))})\n{sim.Describe()}");
                }
            }
        }
    }

    /// <summary>
    /// What farmd's data plane does with the node's ownership since the last look (one look per event, one driver call:
    /// farmd publishes one snapshot per call too): a new run starts with nothing tracked; then the states go to the
    /// policy, and the buckets it names forget their flow.
    /// </summary>
    private void DeleteStaleEntries(SimNode node)
    {
        if (node.Driver is not { } driver || node.ProcessGone)
        {
            return; // a gone process's entries stay; its next run starts by deleting them
        }

        var flows = tracked[node.Name];
        if (!runs.TryGetValue(node.Name, out var run) || !ReferenceEquals(run.Driver, driver))
        {
            flows.Clear(); // the data plane starts: every entry of the module goes
            run = runs[node.Name] = new DataPlaneRun(driver, new StaleEntryPolicy(sim.Modules[0].BucketCount));
        }

        var ownership = driver.Manager.Ownership;
        var stale = run.Policy.Next(ownership.Modules[SimCluster.Module].States, ownership);
        flows.ExceptWith(stale.BeforeApply);
        flows.ExceptWith(stale.AfterApply);
    }

    private bool Accepts(string node, ModuleOwnership states, int bucket) => states[bucket] switch
    {
        BucketState.Owned => true,
        BucketState.Incoming => Tracks(node, bucket) || !states.ForeignFlows.Contains(KeyOf(bucket)),
        BucketState.Claimed or BucketState.Draining => Tracks(node, bucket),
        _ => false,
    };

    /// <summary>One run's data plane: its deletion policy.</summary>
    private sealed class DataPlaneRun(MembershipDriver driver, StaleEntryPolicy policy)
    {
        public MembershipDriver Driver { get; } = driver;

        public StaleEntryPolicy Policy { get; } = policy;
    }
}

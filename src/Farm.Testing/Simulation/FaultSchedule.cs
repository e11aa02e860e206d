using Farm.Core.Config;

namespace Farm.Testing.Simulation;

/// <summary>
/// One randomized fault schedule, fully determined by its seed: a farm starts and converges, then for a while
/// nodes crash, restart and pause, the network partitions (also one way), loses 20% of messages, duplicates
/// and reorders them; then everything heals and the farm must converge again. Invariants are checked after
/// every event throughout.
/// </summary>
public static class FaultSchedule
{
    public static SimCluster Run(int seed, bool verbose = false) => Run(Create(seed, verbose: verbose), seed);

    /// <summary>
    /// The cluster of schedule <paramref name="seed"/> (policy and size follow the seed), not started. With
    /// <paramref name="divergent"/>, one node (which one follows the seed) runs the module with another definition: another
    /// seed on even seeds, another bucket count (512) on odd ones; it must never serve the module beside the others.
    /// </summary>
    public static SimCluster Create(int seed, bool tracksDrains = false, bool verbose = false, bool divergent = false)
    {
        var policy = (seed % 3) switch { 0 => SplitBrainPolicy.Majority, 1 => SplitBrainPolicy.None, _ => SplitBrainPolicy.Witness };
        int nodeCount = 3 + (seed % 4);
        var sim = new SimCluster(nodeCount, policy, seed, tracksDrains: tracksDrains) { VerboseTrace = verbose };
        if (divergent)
        {
            string odd = sim.Nodes[seed % nodeCount].Name;
            var other = seed % 2 == 0
                ? sim.Modules[0] with { Hash = "mod-2", Settings = ["seed=2"] }
                : sim.Modules[0] with { BucketCount = 512, Hash = "mod-3", Settings = ["seed=1", "buckets=512"] };
            sim.ModuleOf = name => name == odd ? other : sim.Modules[0];
        }

        return sim;
    }

    /// <summary>Starts <paramref name="sim"/> and runs schedule <paramref name="seed"/> on it.</summary>
    public static SimCluster Run(SimCluster sim, int seed)
    {
        ArgumentNullException.ThrowIfNull(sim);
        var random = new Random(seed);
        var policy = sim.Options.SplitBrainPolicy;
        sim.StartAll();
        if (!sim.RunUntilConverged(TimeSpan.FromSeconds(10), out _))
        {
            throw new InvariantViolationException($"no convergence after start\n{sim.Describe()}");
        }

        var faultsEnd = sim.Now + TimeSpan.FromSeconds(8);
        int crashes = 0;
        while (sim.Now < faultsEnd)
        {
            sim.RunFor(TimeSpan.FromMilliseconds(random.Next(100, 900)));
            var names = sim.Nodes.Select(n => n.Name).ToList();
            var up = sim.Nodes.Where(n => n.State == SimNodeState.Up).ToList();
            switch (random.Next(10))
            {
                case 0 when up.Count > 1:
                    // Every other crash kills the daemon alone (kill -9, host up): the crash fast path. Counted, not drawn,
                    // so the schedule's random draws stay what they were.
                    sim.Crash(up[random.Next(up.Count)].Name, processGone: crashes++ % 2 == 1, noticeAfter: TimeSpan.FromMilliseconds(2));
                    break;
                case 1:
                    var crashed = sim.Nodes.Where(n => n.State == SimNodeState.Crashed).ToList();
                    if (crashed.Count > 0)
                    {
                        sim.Restart(crashed[random.Next(crashed.Count)].Name);
                    }

                    break;
                case 2 when up.Count > 0:
                    sim.Pause(up[random.Next(up.Count)].Name, TimeSpan.FromMilliseconds(random.Next(200, 3000)));
                    break;
                case 3:
                    var shuffled = names.OrderBy(_ => random.Next()).ToList();
                    int cut = random.Next(1, shuffled.Count);
                    sim.Partition(shuffled.Take(cut), shuffled.Skip(cut));
                    if (policy == SplitBrainPolicy.Witness)
                    {
                        // The policy's premise: a partition leaves the witness (e.g. the gateway) on one side only.
                        foreach (var name in shuffled.Skip(cut))
                        {
                            sim.Block(name, "witness");
                        }
                    }

                    break;
                case 4:
                    var a = names[random.Next(names.Count)];
                    var b = names[random.Next(names.Count)];
                    if (a != b)
                    {
                        sim.Block(a, b); // asymmetric: b still reaches a
                        if (policy == SplitBrainPolicy.Witness)
                        {
                            sim.Block(b, "witness"); // the premise again: the deaf side is the one without the witness
                        }
                    }

                    break;
                case 5:
                    sim.Loss = sim.Loss > 0 ? 0 : 0.2;
                    sim.Note($"loss {sim.Loss}");
                    break;
                case 7 when policy == SplitBrainPolicy.Witness:
                    sim.Block(names[random.Next(names.Count)], "witness"); // one node loses the witness
                    break;
                case 6:
                    sim.Duplication = sim.Duplication > 0 ? 0 : 0.1;
                    sim.MaxDelay = TimeSpan.FromMilliseconds(sim.MaxDelay.TotalMilliseconds > 2 ? 2 : 40);
                    sim.Note($"duplication {sim.Duplication}, max delay {sim.MaxDelay.TotalMilliseconds} ms");
                    break;
                default:
                    sim.HealNetwork();
                    break;
            }

            sim.Invariants.NetworkChangedAt = sim.Now;
        }

        // Heal everything and require a single view again.
        sim.HealNetwork();
        sim.Loss = 0;
        sim.Note("final heal");
        sim.Duplication = 0;
        sim.MaxDelay = TimeSpan.FromMilliseconds(2);
        foreach (var node in sim.Nodes.Where(n => n.State == SimNodeState.Crashed))
        {
            sim.Restart(node.Name);
        }

        sim.RunFor(TimeSpan.FromSeconds(3)); // longest pause ends
        sim.Invariants.NetworkChangedAt = sim.Now;
        if (!sim.RunUntilConverged(TimeSpan.FromSeconds(10), out _))
        {
            throw new InvariantViolationException($"no convergence after healing\n{sim.Describe()}");
        }

        sim.RunFor(TimeSpan.FromSeconds(1));
        return sim;
    }
}

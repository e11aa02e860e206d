using System.Globalization;

namespace Farm.Cluster.Tests;

[TestClass]
public sealed class MembershipFaultScheduleTests
{
    private const int Schedules = 1000;

    private const int DivergentSchedules = 300;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void RandomFaultSchedules_1000Seeds_NeverBreakInvariantsAndReconverge()
    {
        // FARM_SIM_SEED=<n> replays one schedule.
        var only = Environment.GetEnvironmentVariable("FARM_SIM_SEED");
        var seeds = only is null ? Enumerable.Range(0, Schedules) : [int.Parse(only, CultureInfo.InvariantCulture)];
        var failures = new List<string>();
        long checks = 0;
        var longestOrphan = TimeSpan.Zero;
        foreach (int seed in seeds)
        {
            try
            {
                var sim = FaultSchedule.Run(seed, verbose: only is not null);
                checks += sim.Invariants.Checks;
                longestOrphan = sim.Invariants.LongestOrphan > longestOrphan ? sim.Invariants.LongestOrphan : longestOrphan;
            }
            catch (InvariantViolationException e)
            {
                failures.Add($"seed {seed}: {e.Message}");
            }
        }

        foreach (var failure in failures)
        {
            TestContext.WriteLine(failure[..failure.IndexOf('\n', StringComparison.Ordinal)]);
        }

        TestContext.WriteLine($"{seeds.Count()} schedules, {checks} invariant checks, longest orphan under (b): {longestOrphan.TotalMilliseconds} ms");
        Assert.AreEqual(0, failures.Count,
            $"{failures.Count} schedules broke an invariant; replay one with FARM_SIM_SEED=<seed>. Seeds: " +
            string.Join(", ", failures.Select(f => f[..f.IndexOf(':', StringComparison.Ordinal)])) + "\nFirst:\n" + failures.FirstOrDefault());
    }

    [TestMethod]
    public void RandomFaultSchedules_OneNodeWithOtherModuleDefinition_NeverServeTheModuleTogether()
    {
        // Invariant (d) on top of the others: the node whose farm.yaml differs (seed or bucket count) never serves the
        // module beside a node of the agreed definition; after healing, one view forms and every bucket has one owner.
        var failures = new List<string>();
        for (int seed = 0; seed < DivergentSchedules; seed++)
        {
            try
            {
                var sim = FaultSchedule.Run(FaultSchedule.Create(seed, divergent: true), seed);
                var installed = sim.Nodes.First(n => n.State == SimNodeState.Up).Manager!.Installed!;
                var odd = installed.Members.Where(m => m.DefinitionOf(SimCluster.Module)?.Hash != "mod-1").ToList();
                if (odd.Count != 1 || installed.Tables[SimCluster.Module].CountOf(odd[0].Name) != 0)
                {
                    failures.Add($"seed {seed}: the node with the other definition holds buckets after healing\n{sim.Describe()}");
                }
            }
            catch (InvariantViolationException e)
            {
                failures.Add($"seed {seed}: {e.Message}");
            }
        }

        Assert.AreEqual(0, failures.Count,
            $"{failures.Count} schedules failed; seeds: " + string.Join(", ", failures.Select(f => f[..f.IndexOf(':', StringComparison.Ordinal)])) +
            "\nFirst:\n" + failures.FirstOrDefault());
    }
}

using Farm.Fuzz.Tests.Config;
using Farm.Fuzz.Tests.DataPlane;
using Farm.Fuzz.Tests.Protocol;

namespace Farm.Fuzz.Tests;

/// <summary>
/// Every fuzz target (see README.md): its kept inputs (seeds and former crashers) pass the target's checks; then a
/// fixed number of mutated (and, for configuration files, generated) inputs from a fixed seed fail only with the
/// parser's own validation error, stay within the bounds, and enough of them get deep.
/// </summary>
[TestClass]
public sealed class FuzzTargetTests
{
    private static readonly FuzzTarget[] Targets =
    [
        ConfigFuzzTargets.ClusterTarget,
        ConfigFuzzTargets.ModuleTarget,
        ProtocolFuzzTargets.PayloadTarget,
        ProtocolFuzzTargets.EnvelopeTarget,
        DataPlaneFuzzTargets.CtnetlinkTarget,
        DataPlaneFuzzTargets.NeighborTarget,
    ];

    public TestContext TestContext { get; set; } = null!;

    public static IEnumerable<object[]> TargetNames => Targets.Select(t => new object[] { t.Name });

    [TestMethod]
    [DynamicData(nameof(TargetNames))]
    public void CheckKeptInputs_Target_PassTheChecks(string target) => FuzzRunner.CheckKeptInputs(Target(target));

    // Cluster and module files never throw; membership payloads fail only with the parser's error and round-trip;
    // envelopes get a valid MAC only on sealed contents; ctnetlink datagrams fail only with the parser's errors;
    // neighbor frames never throw (each target's Run and IsExpected say it).
    [TestMethod]
    [DataRow("cluster", 30_000, 1301, 100)]
    [DataRow("module", 60_000, 1302, 100)]
    [DataRow("membership", 100_000, 2301, 1000)]
    [DataRow("envelope", 100_000, 2302, 100)]
    [DataRow("ctnetlink", 100_000, 3301, 1000)]
    [DataRow("neighbors", 100_000, 3302, 1000)]
    public void RunDeep_MutatedInputs_FailOnlyAsExpectedAndStayBounded(string target, int iterations, int seed, int minimumDeep) =>
        FuzzRunner.RunDeep(Target(target), iterations, seed, TestContext, minimumDeep);

    private static FuzzTarget Target(string name) => Targets.Single(t => t.Name == name);
}

using Farm.Core.Scheduling;

namespace Farm.Daemon.Tests.Hosting;

[TestClass]
public sealed class CpuPriorityTests
{
    [TestMethod]
    public void Raise_Granted_RunsAtFarmdNiceAndScriptsGetTheOriginalBack()
    {
        var os = new FakePriority(original: 2, refusal: null);

        var priority = CpuPriority.Raise(os);

        Assert.AreEqual(CpuPriority.FarmdNice, os.Asked);
        Assert.AreEqual(new CpuPriority(CpuPriority.FarmdNice, 2 - CpuPriority.FarmdNice, null), priority);
    }

    [TestMethod]
    public void Raise_Refused_KeepsTheReasonAndLeavesScriptsAtFarmdsPriority()
    {
        var priority = CpuPriority.Raise(new FakePriority(original: 0, refusal: "setpriority was refused (EPERM)"));

        Assert.AreEqual("setpriority was refused (EPERM)", priority.Refusal);
        Assert.AreEqual(0, priority.ChildAdjustment);
    }

    [TestMethod]
    public void BindModuleHosting_RaisedPriority_PassesTheAdjustmentToTheScripts()
    {
        var settings = Minimal() with { Priority = new CpuPriority(-10, 10, null) };

        Assert.AreEqual(10, settings.BindModuleHosting().ScriptNiceAdjustment);
        Assert.AreEqual(0, Minimal().BindModuleHosting().ScriptNiceAdjustment, "in-process hosts raise nothing");
    }

    private static DaemonSettings Minimal()
    {
        var node = new NodeConfig { Name = "n1", Addresses = [IPAddress.Parse("198.18.0.1")] };
        return new DaemonSettings
        {
            ClusterFile = "/nonexistent/cluster.yaml",
            Cluster = new ClusterConfig { Name = "c", Key = "cpu-priority-test-key-0123456789", Nodes = [node] },
            Self = node,
            DataPlane = DataPlaneMode.Off,
            Incarnation = 1,
        };
    }

    private sealed class FakePriority(int original, string? refusal) : IProcessPriority
    {
        public int? Asked { get; private set; }

        public int ChildAdjustment { get; private set; }

        public string? TryRaiseProcess(int nice)
        {
            Asked = nice;
            if (refusal is null)
            {
                ChildAdjustment = original - nice;
            }

            return refusal;
        }
    }
}

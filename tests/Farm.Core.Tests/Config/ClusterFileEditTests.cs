namespace Farm.Core.Tests.Config;

[TestClass]
public sealed class ClusterFileEditTests
{
    [TestMethod]
    public void WithWeight_WeightAndVersionWritten_OnlyThoseNumbersChange()
    {
        string text = "# site file\n" + ConfigSamples.TwoNodeCluster.Replace("  key:", "  version: 7 # bumped by hand\n  key:", StringComparison.Ordinal);

        var (edited, error) = ClusterFileEdit.WithWeight(text, "b", 80, 8);

        Assert.IsNull(error);
        var cluster = ConfigAssert.ValidCluster(edited!);
        Assert.AreEqual(8, cluster.Version);
        Assert.AreEqual(80, cluster.Nodes.Single(n => n.Name == "b").Weight);
        Assert.AreEqual(100, cluster.Nodes.Single(n => n.Name == "a").Weight);
        Assert.AreEqual(
            text.Replace("version: 7", "version: 8", StringComparison.Ordinal).Replace("weight: 50", "weight: 80", StringComparison.Ordinal),
            edited,
            "comments, order and every other character kept");
    }

    [TestMethod]
    public void WithWeight_NeitherWritten_BothInsertedInBlockStyle()
    {
        var (edited, error) = ClusterFileEdit.WithWeight(ConfigSamples.MinimalCluster, "a", 30, 1);

        Assert.IsNull(error);
        var cluster = ConfigAssert.ValidCluster(edited!);
        Assert.AreEqual(1, cluster.Version);
        Assert.AreEqual(30, cluster.Nodes.Single().Weight);
        StringAssert.Contains(edited, "\n  version: 1\n  name: demo");
        StringAssert.Contains(edited, "- name: a\n      weight: 30\n");
    }

    [TestMethod]
    public void WithWeight_UnknownNodeOrWeightOutOfRange_RefusedWithTheReason()
    {
        var unknown = ClusterFileEdit.WithWeight(ConfigSamples.MinimalCluster, "z", 10, 1);
        var tooHeavy = ClusterFileEdit.WithWeight(ConfigSamples.MinimalCluster, "a", NodeConfig.MaxWeight + 1, 1);

        Assert.IsNull(unknown.Text);
        Assert.AreEqual("unknown node 'z'", unknown.Error);
        Assert.IsNull(tooHeavy.Text);
        StringAssert.Contains(tooHeavy.Error, "out of range");
    }

    [TestMethod]
    public void WithWeight_FlowStyleNodeWithoutWeight_RefusedRatherThanBroken()
    {
        string text = ConfigSamples.MinimalCluster.Replace("    - name: a\n      addresses: [198.18.0.1]", "    - {name: a, addresses: [198.18.0.1]}", StringComparison.Ordinal);
        ConfigAssert.ValidCluster(text);

        var (edited, error) = ClusterFileEdit.WithWeight(text, "a", 10, 1);

        Assert.IsNull(edited);
        StringAssert.Contains(error, "not in block style");
    }
}

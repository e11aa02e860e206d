namespace Farm.Core.Tests.Config;

[TestClass]
public sealed class ClusterConfigDiffTests
{
    private static readonly string Running = ConfigSamples.TwoNodeCluster.Replace(
        "  lans:", "  version: 3\n  heartbeat: { interval: 100ms, detection_timeout: 600ms, lease: 360ms }\n  lans:");

    private static ClusterConfigDiff Diff(string candidate) =>
        ClusterConfigDiff.Compare(ConfigAssert.ValidCluster(Running), ConfigAssert.ValidCluster(candidate));

    [TestMethod]
    public void Compare_SameFileRewritten_IsEmpty()
    {
        var diff = Diff(Running.Replace("  heartbeat: { interval: 100ms, detection_timeout: 600ms, lease: 360ms }", "  # comment\n  heartbeat:\n    lease: 360ms\n    interval: 100ms"));
        Assert.IsTrue(diff.IsEmpty);
        Assert.IsFalse(diff.NeedsRestart);
        Assert.AreEqual((3, 3), (diff.RunningVersion, diff.CandidateVersion));
    }

    [TestMethod]
    public void Compare_WeightsAndVersion_AreLiveChangesOnly()
    {
        var diff = Diff(Running.Replace("weight: 50", "weight: 200").Replace("weight: 100", "weight: 0").Replace("version: 3", "version: 4"));
        Assert.IsFalse(diff.NeedsRestart, string.Join(", ", diff.RestartKeys));
        Assert.IsFalse(diff.IsEmpty);
        CollectionAssert.AreEqual(new[] { new NodeWeightChange("a", 100, 0), new NodeWeightChange("b", 50, 200) }, diff.WeightChanges.ToArray());
        Assert.AreEqual((3, 4), (diff.RunningVersion, diff.CandidateVersion));
    }

    [TestMethod]
    [DataRow("key: 0123456789abcdef", "key: 0123456789abcdeX", "key")]
    [DataRow("name: demo", "name: demo2", "name")]
    [DataRow("interval: 100ms", "interval: 110ms", "heartbeat.interval")]
    [DataRow("  lans:", "  grpc_port: 9500\n  lans:", "grpc_port")]
    [DataRow("  lans:", "  split_brain: { policy: majority }\n  lans:", "split_brain.policy")]
    [DataRow("lans: [pub, priv]", "lans: [pub, private]", "lans")]
    [DataRow("198.19.0.2]", "198.19.0.9]", "nodes[b].addresses")]
    [DataRow("weight: 50", "weight: 50\n      priority: 1", "nodes[b].priority")]
    public void Compare_OtherSetting_NamesTheKeyAsTheFileSpellsIt(string from, string to, string key)
    {
        var diff = Diff(Running.Replace(from, to));
        Assert.IsTrue(diff.NeedsRestart);
        CollectionAssert.AreEqual(new[] { key }, diff.RestartKeys.ToArray());
    }

    [TestMethod]
    public void Compare_NodeAddedAndRemoved_NamesEachNodeOnce()
    {
        var diff = Diff(Running.Replace("- name: b\n      addresses: [198.18.0.2, 198.19.0.2]", "- name: c\n      addresses: [198.18.0.3, 198.19.0.3]"));
        CollectionAssert.AreEqual(new[] { "nodes[b] (removed)", "nodes[c] (added)" }, diff.RestartKeys.ToArray());
        Assert.AreEqual(0, diff.WeightChanges.Count, "weights are compared only for nodes of both files");
    }

    [TestMethod]
    public void Compare_SeveralSettings_ListsEveryKeyInFileOrderWithTheWeights()
    {
        var diff = Diff(Running.Replace("interval: 100ms", "interval: 110ms").Replace("key: 0123456789abcdef", "key: fedcba9876543210").Replace("weight: 50", "weight: 60"));
        CollectionAssert.AreEqual(new[] { "key", "heartbeat.interval" }, diff.RestartKeys.ToArray());
        Assert.AreEqual(new NodeWeightChange("b", 50, 60), diff.WeightChanges.Single());
    }

    [TestMethod]
    public void Compare_EmptyRestartKeys_ExactlyWhenTheHashesAgree()
    {
        string[] candidates =
        [
            Running.Replace("weight: 50", "weight: 1000"),
            Running.Replace("version: 3", "version: 0"),
            Running.Replace("lease: 360ms", "lease: 300ms"),
            Running.Replace("198.19.0.1", "198.19.0.11"),
        ];
        var running = ConfigAssert.ValidCluster(Running);
        foreach (string text in candidates)
        {
            var candidate = ConfigAssert.ValidCluster(text);
            Assert.AreEqual(running.ComputeHash() == candidate.ComputeHash(), !ClusterConfigDiff.Compare(running, candidate).NeedsRestart, text);
        }
    }
}

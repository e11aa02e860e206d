namespace Farm.Core.Tests.Config;

[TestClass]
public sealed class ConfigExamplesTests
{
    [TestMethod]
    public void Examples_EveryFile_ChecksClean()
    {
        var files = ConfigAssert.ExampleFiles().ToList();
        Assert.IsGreaterThanOrEqualTo(3, files.Count, "docs/examples should hold the cluster file and two modules");
        foreach (string file in files)
        {
            var result = ConfigParser.Parse(File.ReadAllText(file), file);
            Assert.IsTrue(result.Succeeded, $"{file}:\n" + string.Join('\n', result.Errors));
        }
    }

    [TestMethod]
    public void Examples_Cluster_HasThreeNodesOnTwoLans()
    {
        string file = Path.Combine(ConfigAssert.RepoRoot(), "docs", "examples", "cluster.yaml");
        var cluster = ConfigParser.ParseCluster(File.ReadAllText(file), file).Value!;
        Assert.AreEqual(3, cluster.Nodes.Count);
        Assert.AreEqual(2, cluster.Lans.Count);
        Assert.IsTrue(cluster.Nodes.SelectMany(n => n.Addresses).All(a => a.ToString().StartsWith("198.1", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void Examples_WebModule_BalancesIpv4AndIpv6WithTcpAndHttpCheckers()
    {
        string file = Path.Combine(ConfigAssert.RepoRoot(), "docs", "examples", "modules", "web", "farm.yaml");
        var module = ConfigParser.ParseModule(File.ReadAllText(file), file).Value!;
        Assert.AreEqual(ModuleMode.Balance, module.Mode);
        CollectionAssert.AreEquivalent(new[] { System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.AddressFamily.InterNetworkV6 }, module.Vips.Select(v => v.AddressFamily).ToArray());
        CollectionAssert.AreEqual(new[] { "tcp 80", "tcp 443" }, module.Rules.Select(r => r.ToString()).ToArray());
        CollectionAssert.AreEquivalent(new[] { CheckerType.Tcp, CheckerType.Http }, module.Checkers.Select(c => c.Type).ToArray());
    }

    [TestMethod]
    public void FiveMistakes_File_ReportsFiveLocatedErrorsWithHints() =>
        ConfigAssert.TestDataErrors(
            "module-five-mistakes.yaml",
            "farm.yaml",
            ConfigFileKind.Module,
            (6, 7, "VIP 224.0.0.5 is a multicast address"),
            (8, 12, "buckets 1000 is not a power of two"),
            (9, 3, "unknown key 'vmac_mod'"),
            (13, 31, "port rule #3 (tcp 70-90) overlaps port rule #1 (tcp 80, line 11)"),
            (19, 17, "unknown unit 'sec'"));
}

namespace Farm.Core.Tests.Config;

[TestClass]
public sealed class ConfigCrossCheckTests
{
    private static readonly ClusterConfig Cluster = new()
    {
        Name = "demo",
        Key = "0123456789abcdef",
        Nodes = [new NodeConfig { Name = "a", Addresses = [IPAddress.Parse("198.18.0.1")] }],
    };

    [TestMethod]
    public void Check_DistinctVipsAndNames_HasNoError() =>
        Assert.IsEmpty(ConfigCrossCheck.Check(("c.yaml", Cluster), [("web.yaml", Module("web", "198.18.100.1")), ("db.yaml", Module("db", "198.18.100.2"))]));

    [TestMethod]
    public void Check_VipOfTwoModules_IsReportedAtTheSecond()
    {
        var errors = ConfigCrossCheck.Check(null, [("web.yaml", Module("web", "198.18.100.1")), ("db.yaml", Module("db", "198.18.100.1"))]);

        Assert.AreEqual("db.yaml:1:1: error: VIP 198.18.100.1 of module 'db' is also a VIP of module 'web' (web.yaml) (hint: give each module its own VIPs: a node binds each VIP once)", errors.Single().ToString());
    }

    [TestMethod]
    public void Check_VipThatIsANodeAddressOrRepeatedName_IsReported()
    {
        var errors = ConfigCrossCheck.Check(("c.yaml", Cluster), [("web.yaml", Module("web", "198.18.0.1")), ("web2.yaml", Module("web", "198.18.100.9"))]);

        CollectionAssert.AreEqual(
            new[] { "VIP 198.18.0.1 of module 'web' is the address of node 'a' in c.yaml", "module name 'web' is also used by web.yaml" },
            errors.Select(e => e.Message).ToArray());
    }

    private static ModuleConfig Module(string name, string vip) => new()
    {
        Name = name,
        Vips = [IPAddress.Parse(vip)],
        Interface = "eth0",
        Rules = [new PortRuleConfig { FirstPort = 80, LastPort = 80 }],
    };
}

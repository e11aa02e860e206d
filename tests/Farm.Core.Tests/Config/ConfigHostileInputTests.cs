using System.Diagnostics;

namespace Farm.Core.Tests.Config;

/// <summary>
/// Files built to hurt the parser (found by fuzzing and by hand, issue 13): each ends in located errors, quickly and in
/// little memory, instead of a crash, an overflow or gigabytes of work.
/// </summary>
[TestClass]
public sealed class ConfigHostileInputTests
{
    private const string Module = "module:\n  name: a\n  interface: eth0\n  vips: [198.18.0.1]\n  rules:\n  - &r {ports: 80}\n";

    [TestMethod]
    [DataRow(3_000)]
    [DataRow(40_000)]
    [DataRow(400_000)]
    public void Parse_DeeplyNestedFlowLists_ReportsDepthAtTheFirstLevelTooDeep(int depth)
    {
        var result = Bounded(() => ConfigParser.Parse("cluster: " + new string('[', depth) + new string(']', depth), ConfigAssert.File));

        Assert.AreEqual(1, result.Errors.Count, string.Join('\n', result.Errors));
        Assert.AreEqual((1, 10 + ConfigLimits.MaxDepth - 1), (result.Errors[0].Line, result.Errors[0].Column));
        StringAssert.Contains(result.Errors[0].Message, $"nests deeper than {ConfigLimits.MaxDepth} levels");
    }

    [TestMethod]
    public void Parse_DeeplyNestedFlowMappings_ReportsDepth()
    {
        var result = Bounded(() => ConfigParser.Parse("cluster: " + string.Concat(Enumerable.Repeat("{a: ", 20_000)), ConfigAssert.File));

        Assert.AreEqual(1, result.Errors.Count, string.Join('\n', result.Errors));
        StringAssert.Contains(result.Errors[0].Message, "nests deeper than");
    }

    [TestMethod]
    public void Parse_AliasBomb_ReportsTheNodeLimitAtTheAliasThatCrossesIt()
    {
        var yaml = new StringBuilder("cluster:\n  name: a\n  key: 0123456789abcdef\n  x0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9]\n");
        for (int i = 1; i < 12; i++)
        {
            yaml.Append($"  x{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 9))}]\n");
        }

        var result = Bounded(() => ConfigParser.Parse(yaml.ToString(), ConfigAssert.File));

        Assert.AreEqual(1, result.Errors.Count, string.Join('\n', result.Errors));
        // Anchors a0..a3 hold 8,302 nodes and a4 66,430: the first *a4 of line 9 lifts the count past 100,000.
        Assert.AreEqual(9, result.Errors[0].Line, result.Errors[0].ToString());
        StringAssert.Contains(result.Errors[0].Message, $"more than {ConfigLimits.MaxNodes} nodes");
    }

    [TestMethod]
    public void ParseModule_OneRuleRepeatedByAlias_ReportsTheRuleLimitAndFirstOverlapsOnly()
    {
        var yaml = new StringBuilder(Module);
        for (int i = 1; i < 3_000; i++)
        {
            yaml.Append("  - *r\n");
        }

        var result = Bounded(() => ConfigParser.Parse(yaml.ToString(), ConfigAssert.File));

        Assert.AreEqual(ConfigLimits.MaxErrors + 1, result.Errors.Count);
        Assert.IsTrue(result.Errors.Any(e => e.Message.Contains("the module has 3000 port rules, more than 1024")), string.Join('\n', result.Errors.Take(5)));
        // 1023 repeats of rule #1 (each reported once) plus the limit: 1024 errors, 100 shown.
        StringAssert.Contains(result.Errors[^1].Message, "924 more error(s) not shown");
    }

    [TestMethod]
    public void Parse_ThousandsOfUnknownKeys_KeepsTheFirstHundredAndCountsTheRest()
    {
        var result = Bounded(() => ConfigParser.Parse("cluster:\n" + string.Concat(Enumerable.Range(0, 5_000).Select(i => $"  k{i}: 1\n")), ConfigAssert.File));

        Assert.AreEqual(ConfigLimits.MaxErrors + 1, result.Errors.Count);
        Assert.IsTrue(result.Errors.Take(ConfigLimits.MaxErrors).All(e => e.Message.StartsWith("unknown key 'k", StringComparison.Ordinal)));
        // 5000 unknown keys plus the three missing required ones.
        StringAssert.Contains(result.Errors[^1].Message, "4903 more error(s) not shown");
    }

    [TestMethod]
    public void Parse_FileOverTheSizeLimit_FailsAtOneOneWithoutParsing()
    {
        var result = Bounded(() => ConfigParser.Parse("# " + new string('x', ConfigLimits.MaxFileLength), ConfigAssert.File));

        Assert.AreEqual(1, result.Errors.Count);
        Assert.AreEqual((1, 1), (result.Errors[0].Line, result.Errors[0].Column));
        StringAssert.Contains(result.Errors[0].Message, "more than the limit of 1048576");
    }

    [TestMethod]
    public void Parse_HugeUnknownKey_SuggestsNothingAndStaysCheap()
    {
        // A key just under YAML's 1024-character simple-key limit: the suggester used to build a table per candidate.
        var result = Bounded(() => ConfigParser.Parse("cluster:\n  ? " + new string('k', 200_000) + "\n  : 1\n", ConfigAssert.File));

        var error = result.Errors.Single(e => e.Message.StartsWith("unknown key", StringComparison.Ordinal));
        Assert.IsTrue(error.Message.Length <= 500, "message not capped: " + error.Message.Length);
        StringAssert.StartsWith(error.Hint, "valid keys are");
    }

    [TestMethod]
    [DataRow("interval: 256204779h", "'interval' in heartbeat is 256204779h, out of range", "use a duration from 10ms to 10s")]
    [DataRow("interval: 99999999999999999999999ms", "'interval' in heartbeat is 99999999999999999999999ms, out of range", "use a duration from 10ms to 10s")]
    [DataRow("lease: 9999999999h", "'lease' in heartbeat is 9999999999h, out of range", "use a duration from 10ms to 1m")]
    public void ParseCluster_DurationBeyondTimeSpan_ReportsOutOfRangeAtTheValue(string setting, string message, string hint)
    {
        var result = ConfigAssert.Cluster($"cluster:\n  name: demo\n  key: 0123456789abcdef\n  heartbeat:\n    {setting}\n  nodes: [{{ name: a, addresses: [198.18.0.1] }}]\n");

        var error = ConfigAssert.SingleError(result, 5, setting.IndexOf(':', StringComparison.Ordinal) + 7, message);
        Assert.AreEqual(hint, error.Hint);
    }

    [TestMethod]
    public void ParseCluster_IntegerBeyondLong_ReportsOutOfRange()
    {
        var result = ConfigAssert.Cluster("cluster:\n  name: demo\n  key: 0123456789abcdef\n  version: 99999999999999999999999\n  nodes: [{ name: a, addresses: [198.18.0.1] }]\n");

        var error = ConfigAssert.SingleError(result, 4, 12, "'version' in cluster is 99999999999999999999999, out of range");
        Assert.AreEqual("use a value from 0 to 2147483647", error.Hint);
    }

    [TestMethod]
    [DataRow("99999999999999999999")]
    [DataRow("80-99999999999")]
    public void ParseModule_PortBeyondInt_ReportsOutOfRange(string ports)
    {
        ConfigAssert.SingleError(ConfigAssert.Module(Module.Replace("ports: 80", $"ports: \"{ports}\"")), 6, 16, "is out of range");
    }

    [TestMethod]
    [DataRow("'eth0\"; flush ruleset'", "'eth0\"; flush ruleset' is not a valid interface name")]
    [DataRow("averyveryverylongname", "'averyveryverylongname' is not a valid interface name")]
    [DataRow("\"..\"", "'..' is not a valid interface name")]
    [DataRow("\"eth0\\e[2J\"", "'eth0\\x1b[2J' is not a valid interface name")]
    public void ParseModule_InterfaceTheDataPlaneWouldRefuse_IsRefusedByTheParser(string yaml, string message)
    {
        var error = ConfigAssert.SingleError(ConfigAssert.Module(Module.Replace("interface: eth0", "interface: " + yaml)), 3, 14, message);
        Assert.IsFalse(error.ToString().Any(char.IsControl), "control characters must be escaped: " + error);
    }

    [TestMethod]
    [DataRow("eth0")]
    [DataRow("enp0s31f6")]
    [DataRow("bond0.100")]
    [DataRow("veth_a-1")]
    [DataRow("fifteen-chars-x")]
    public void InterfaceName_NamesLinuxToolsCreate_AreValid(string name) => Assert.IsTrue(InterfaceName.IsValid(name));

    [TestMethod]
    [DataRow("fe80::1", "VIP fe80::1 is an IPv6 link-local address")]
    [DataRow("169.254.10.1", "VIP 169.254.10.1 is an IPv4 link-local address")]
    public void ParseModule_LinkLocalVip_IsRefused(string vip, string message)
    {
        ConfigAssert.SingleError(ConfigAssert.Module(Module.Replace("198.18.0.1", $"\"{vip}\"")), 4, 10, message);
    }

    [TestMethod]
    public void ParseCluster_IPv6LinkLocalNodeAddress_IsRefusedButIPv4LinkLocalIsAllowed()
    {
        const string Cluster = "cluster:\n  name: demo\n  key: 0123456789abcdef\n  nodes: [{ name: a, addresses: [ADDRESS] }]\n";

        ConfigAssert.SingleError(ConfigAssert.Cluster(Cluster.Replace("ADDRESS", "\"fe80::1\"")), 4, 34, "address fe80::1 of node 'a' is an IPv6 link-local address");
        ConfigAssert.ValidCluster(Cluster.Replace("ADDRESS", "169.254.0.1"));
    }

    [TestMethod]
    public void ParseModule_TooManyVipsAndCheckers_ReportsEachLimitOnce()
    {
        string vips = string.Join(", ", Enumerable.Range(0, ConfigLimits.MaxVips + 1).Select(i => $"198.18.{i / 200}.{(i % 200) + 1}"));
        string checkers = string.Join(", ", Enumerable.Range(0, ConfigLimits.MaxCheckers + 1).Select(i => $"{{ name: c{i}, type: ping, address: 198.18.0.254 }}"));

        var result = ConfigAssert.Module(Module.Replace("[198.18.0.1]", $"[{vips}]") + $"  checkers: [{checkers}]\n");

        Assert.AreEqual(2, result.Errors.Count, string.Join('\n', result.Errors));
        StringAssert.Contains(result.Errors[0].Message, "257 VIPs, more than 256");
        StringAssert.Contains(result.Errors[1].Message, "65 checkers, more than 64");
    }

    /// <summary>Runs a parse on this thread and fails when it takes more than 5 s or allocates more than 64 MB.</summary>
    private static ConfigFileResult Bounded(Func<ConfigFileResult> parse)
    {
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        var result = parse();
        watch.Stop();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.IsTrue(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.IsTrue(allocated < 64_000_000, $"allocated {allocated:N0} bytes");
        Assert.IsTrue(result.Errors.All(e => e.Hint is not null), "every error needs a hint");
        return result;
    }
}

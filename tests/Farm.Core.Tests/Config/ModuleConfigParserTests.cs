namespace Farm.Core.Tests.Config;

[TestClass]
public sealed class ModuleConfigParserTests
{
    // Lines: 1 module, 2 name, 3 vips, 4 interface, 5 rules, 6 first rule; extra settings start at line 7.
    private static readonly string Minimal = ConfigSamples.MinimalModule.Replace("- ports: 80", "- { protocol: tcp, ports: 80 }");

    private static string With(string yaml) => Minimal + "\n" + yaml;

    /// <summary>The module's single-valued settings, compared in one assert.</summary>
    private static (string Interface, ModuleMode Mode, bool Failback, int Buckets, uint Seed, VmacMode VmacMode) Settings(ModuleConfig module) =>
        (module.Interface, module.Mode, module.Failback, module.Buckets, module.Seed, module.VmacMode);

    [TestMethod]
    public void ParseModule_MinimalFile_AppliesEveryDefault()
    {
        var module = ConfigAssert.ValidModule(Minimal);

        Assert.AreEqual("web", module.Name);
        Assert.AreEqual(IPAddress.Parse("198.18.100.1"), module.Vips.Single());
        Assert.AreEqual(("eth0", ModuleMode.Balance, false, 4096, 0x6661726du, VmacMode.UnicastFilter), Settings(module));
        Assert.AreEqual(TimeSpan.FromSeconds(10), module.Arp.GratuitousInterval);
        Assert.AreEqual(new ModuleTimeoutOptions(), module.Timeouts);
        Assert.AreEqual(TimeSpan.FromSeconds(60), module.Timeouts.Start);
        Assert.AreEqual(TimeSpan.FromSeconds(60), module.Timeouts.Stop);
        Assert.AreEqual(TimeSpan.FromSeconds(10), module.Timeouts.StopForce);
        Assert.AreEqual(TimeSpan.FromSeconds(30), module.Timeouts.Drain);
        Assert.AreEqual(3, module.Recovery.MaxLoop);
        Assert.AreEqual(TimeSpan.FromHours(24), module.Recovery.LoopInterval);
        Assert.AreEqual(0, module.Scripts.Count);
        Assert.AreEqual(0, module.Checkers.Count);
        var rule = module.Rules.Single();
        Assert.AreEqual(new PortRuleConfig { Protocol = TransportProtocol.Tcp, FirstPort = 80, LastPort = 80, Affinity = Affinity.ClientIp }, rule);
    }

    [TestMethod]
    public void ParseModule_FullFile_ReadsEverySetting()
    {
        var module = ConfigAssert.ValidModule("""
            module:
              name: db
              vips: [198.18.100.2, "2001:db8::2"]
              interface: bond0
              mode: single
              failback: true
              buckets: 256
              seed: 12345
              vmac_mode: promiscuous
              rules:
                - { protocol: udp, ports: "5000-5100", affinity: client_ip_port }
                - { protocol: tcp, ports: "5000" }
              arp: { gratuitous_interval: 1m }
              timeouts: { start: 2m, stop: 90s, stop_force: 5s, drain: 0s }
              scripts:
                start_prim: { timeout: 5m }
                stop_both: { timeout: 20s }
              recovery: { maxloop: 5, loop_interval: 1h }
            """);

        Assert.AreEqual(2, module.Vips.Count);
        Assert.AreEqual(("bond0", ModuleMode.Single, true, 256, 12345u, VmacMode.Promiscuous), Settings(module));
        Assert.AreEqual(new PortRuleConfig { Protocol = TransportProtocol.Udp, FirstPort = 5000, LastPort = 5100, Affinity = Affinity.ClientIpPort }, module.Rules[0]);
        Assert.AreEqual(TimeSpan.FromMinutes(1), module.Arp.GratuitousInterval);
        Assert.AreEqual(new ModuleTimeoutOptions { Start = TimeSpan.FromMinutes(2), Stop = TimeSpan.FromSeconds(90), StopForce = TimeSpan.FromSeconds(5), Drain = TimeSpan.Zero }, module.Timeouts);
        Assert.AreEqual(new RecoveryOptions { MaxLoop = 5, LoopInterval = TimeSpan.FromHours(1) }, module.Recovery);
        Assert.AreEqual(TimeSpan.FromMinutes(5), module.ScriptTimeout("start_prim"));
        Assert.AreEqual(TimeSpan.FromSeconds(20), module.ScriptTimeout("stop_both"));
        Assert.AreEqual(TimeSpan.FromMinutes(2), module.ScriptTimeout("start_both"), "without an override a start script gets timeouts.start");
        Assert.AreEqual(TimeSpan.FromSeconds(90), module.ScriptTimeout("poststop"), "without an override a stop script gets timeouts.stop");
    }

    [TestMethod]
    [DataRow("0x00000000", 0u)]
    [DataRow("0xFFFFFFFF", uint.MaxValue)]
    [DataRow("0xdeadbeef", 0xdeadbeefu)]
    [DataRow("4294967295", uint.MaxValue)]
    [DataRow("7", 7u)]
    public void ParseModule_Seed_AcceptsDecimalAndHex(string text, uint expected) =>
        Assert.AreEqual(expected, ConfigAssert.ValidModule(With("  seed: " + text)).Seed);

    [TestMethod]
    [DataRow("-1")]
    [DataRow("4294967296")]
    [DataRow("0x1FFFFFFFF")]
    [DataRow("\"12\"")]
    [DataRow("random")]
    public void ParseModule_BadSeed_ReportsUint32Hint(string text)
    {
        var error = ConfigAssert.SingleError(ConfigAssert.Module(With("  seed: " + text)), 7, 9, "is not an unsigned 32-bit integer");
        StringAssert.Contains(error.Hint, "0x");
    }

    [TestMethod]
    [DynamicData(nameof(ConfigSamples.NonUnicastAddresses), typeof(ConfigSamples))]
    public void ParseModule_VipNotUnicast_Reports(string vip, string reason)
    {
        var error = ConfigAssert.SingleError(ConfigAssert.Module(Minimal.Replace("198.18.100.1", vip)), 3, 10, reason);
        StringAssert.Contains(error.Message, "not a unicast address");
    }

    [TestMethod]
    [DataRow("[198.18.100.1]", "[198.18.100.1, 198.18.100.1]", 3, 24, "duplicate VIP 198.18.100.1")]
    [DataRow("[198.18.100.1]", "[]", 3, 9, "'vips' is empty")]
    [DataRow("  interface: eth0\n", "", 2, 3, "missing required key 'interface' in module")]
    [DataRow("\n  rules:\n    - { protocol: tcp, ports: 80 }", "", 2, 3, "missing required key 'rules'")]
    public void ParseModule_MinimalFileEdited_ReportsAtItsPosition(string from, string to, int line, int column, string message) =>
        ConfigAssert.SingleError(ConfigAssert.Module(Minimal.Replace(from, to)), line, column, message);

    [TestMethod]
    [DataRow("  buckets: 128", 7, 12, "out of range")]
    [DataRow("  buckets: 131072", 7, 12, "out of range")]
    [DataRow("  failback: true", 7, 3, "'failback' applies only to mode single")]
    [DataRow("  timeouts: 60s", 7, 13, "must be a mapping of settings")]
    [DataRow("  recovery: { maxloop: 0 }", 7, 24, "'maxloop' in recovery is 0, out of range")]
    public void ParseModule_BadSetting_ReportsAtItsPosition(string yaml, int line, int column, string message) =>
        ConfigAssert.SingleError(ConfigAssert.Module(With(yaml)), line, column, message);

    [TestMethod]
    [DataRow("  mode: balanse", 7, 9, "'balanse', which is not one of balance, single", "did you mean 'balance'?")]
    [DataRow("  scripts:\n    start_bot: { timeout: 5s }", 8, 5, "unknown key 'start_bot' in scripts", "did you mean 'start_both'?")]
    [DataRow("  timeouts:\n    stopforce: 5s", 8, 5, "unknown key 'stopforce' in timeouts", "did you mean 'stop_force'?")]
    public void ParseModule_BadSetting_ReportsAtItsPositionWithHint(string yaml, int line, int column, string message, string hint) =>
        Assert.AreEqual(hint, ConfigAssert.SingleError(ConfigAssert.Module(With(yaml)), line, column, message).Hint);

    [TestMethod]
    [DataRow("1000", "e.g. 512 or 1024")]
    [DataRow("300", "e.g. 256 or 512")]
    public void ParseModule_BucketsNotPowerOfTwo_SuggestsNeighbours(string buckets, string hint)
    {
        var error = ConfigAssert.SingleError(ConfigAssert.Module(With("  buckets: " + buckets)), 7, 12, "is not a power of two");
        StringAssert.Contains(error.Hint, hint);
    }

    [TestMethod]
    [DataRow(256)]
    [DataRow(65536)]
    public void ParseModule_BucketsAtLimits_Accepted(int buckets) =>
        Assert.AreEqual(buckets, ConfigAssert.ValidModule(With("  buckets: " + buckets)).Buckets);

    [TestMethod]
    public void ParseModule_FailbackNotBoolean_ReportsWrongType()
    {
        var result = ConfigAssert.Module(With("  mode: single\n  failback: yes"));
        var error = ConfigAssert.SingleError(result, 8, 13, "must be true or false");
        StringAssert.Contains(error.Hint, "true or false");
    }

    [TestMethod]
    [DataRow("\"8000-8100\"", 8000, 8100)]
    [DataRow("\"443\"", 443, 443)]
    [DataRow("1-65535", 1, 65535)]
    [DataRow("\" 10 - 20 \"", 10, 20)]
    public void ParseModule_PortsForms_Parse(string ports, int first, int last)
    {
        var rule = ConfigAssert.ValidModule(Minimal.Replace("ports: 80", "ports: " + ports)).Rules.Single();
        Assert.AreEqual((first, last), (rule.FirstPort, rule.LastPort));
    }

    [TestMethod]
    [DataRow("0", "out of range")]
    [DataRow("65536", "out of range")]
    [DataRow("\"100-90\"", "ends before it starts")]
    [DataRow("http", "not a port or a range")]
    [DataRow("\"80,443\"", "not a port or a range")]
    public void ParseModule_BadPorts_Reports(string ports, string expected) =>
        ConfigAssert.SingleError(ConfigAssert.Module(Minimal.Replace("ports: 80", "ports: " + ports)), 6, 31, expected);

    [TestMethod]
    public void ParseModule_OverlappingRulesOfOneProtocol_NamesBothRules()
    {
        var result = ConfigAssert.Module(Minimal + "\n    - { protocol: tcp, ports: \"70-90\" }");
        var error = ConfigAssert.SingleError(result, 7, 31, "port rule #2 (tcp 70-90) overlaps port rule #1 (tcp 80, line 6)");
        StringAssert.Contains(error.Hint, "disjoint");
    }

    [TestMethod]
    public void ParseModule_SamePortsOfDifferentProtocols_DoNotOverlap() =>
        Assert.AreEqual(2, ConfigAssert.ValidModule(Minimal + "\n    - { protocol: udp, ports: 80 }").Rules.Count);

    [TestMethod]
    public void ParseModule_AdjacentRanges_DoNotOverlap() =>
        Assert.AreEqual(2, ConfigAssert.ValidModule(Minimal + "\n    - { protocol: tcp, ports: \"81-90\" }").Rules.Count);

    [TestMethod]
    public void ParseModule_UnknownProtocolAndAffinity_ReportsBoth()
    {
        var result = ConfigAssert.Module(Minimal.Replace("protocol: tcp", "protocol: sctp, affinity: client"));
        Assert.AreEqual(2, result.Errors.Count, string.Join('\n', result.Errors));
        StringAssert.Contains(result.Errors[0].Message, "'sctp', which is not one of tcp, udp");
        StringAssert.Contains(result.Errors[1].Message, "'client', which is not one of client_ip, client_ip_port");
    }

    [TestMethod]
    public void ParseModule_ManyMistakes_CollectsAllInOnePass()
    {
        var result = ConfigAssert.Module("""
            module:
              name: Web
              vips: [224.0.0.1, not-an-ip]
              buckets: 3000
              mode: activ
              rules:
                - { ports: 80 }
                - { ports: 80 }
              timeouts: { start: 1 }
            """);

        // name, 2 vips, missing interface, buckets, mode, overlap, duration without unit.
        Assert.AreEqual(8, result.Errors.Count, string.Join('\n', result.Errors));
        Assert.IsTrue(result.Errors.All(e => e.Hint is not null && e.Line > 1));
    }
}

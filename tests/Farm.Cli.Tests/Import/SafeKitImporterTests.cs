using Farm.Cli.Import;
using static Farm.Cli.Tests.Import.ImportTestData;

namespace Farm.Cli.Tests.Import;

[TestClass]
public sealed class SafeKitImporterTests
{
    [TestMethod]
    public void Import_SimpleFarm_MapsVipInterfaceTcpRuleAndCheckersWithoutWarnings()
    {
        var import = ImportFile("simple-farm.xml");

        var module = Module(import);
        Assert.AreEqual("app", module.Name);
        CollectionAssert.AreEqual(new[] { IPAddress.Parse("198.18.100.20") }, module.Vips.ToArray());
        Assert.AreEqual("eth1", module.Interface);
        Assert.AreEqual(ModuleMode.Balance, module.Mode);
        var rule = module.Rules.Single();
        Assert.AreEqual((TransportProtocol.Tcp, 8080, 8080, Affinity.ClientIp), (rule.Protocol, rule.FirstPort, rule.LastPort, rule.Affinity));
        var link = (InterfaceCheckerConfig)module.Checkers[0];
        Assert.AreEqual(("intf-eth1", "eth1", CheckerAction.Wait), (link.Name, link.Interface, link.Action));
        var tcp = (TcpCheckerConfig)module.Checkers[1];
        Assert.AreEqual(("http-web", "127.0.0.1", 8080), (tcp.Name, tcp.Address, tcp.Port));
        Assert.AreEqual((TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5), CheckerAction.Restart, CheckerWhen.Always), (tcp.Interval, tcp.Timeout, tcp.Action, tcp.When));
        Assert.AreEqual(0, import.Warnings.Count(), string.Join('\n', import.Messages));
    }

    [TestMethod]
    public void Import_OnPortRulesAndUdpWildcard_SpreadsByClientPortAndGivesTheOtherUdpPortsToTheWildcard()
    {
        var module = Module(ImportFile("on-port-udp.xml"));

        CollectionAssert.AreEqual(new[] { IPAddress.Parse("198.18.100.30"), IPAddress.Parse("2001:db8::30") }, module.Vips.ToArray());
        Assert.AreEqual("bond0", module.Interface);
        string[] rules = [.. module.Rules.Select(r => $"{r} {r.Affinity}")];
        CollectionAssert.AreEqual(
            new[]
            {
                "tcp 5060 ClientIpPort", "tcp 5061 ClientIpPort", "udp 5060 ClientIp", "udp 10000 ClientIpPort", "udp 10001 ClientIpPort",
                "udp 1-5059 ClientIp", "udp 5061-9999 ClientIp", "udp 10002-65535 ClientIp",
            },
            rules);
        Assert.AreEqual((5, TimeSpan.FromHours(12)), (module.Recovery.MaxLoop, module.Recovery.LoopInterval));
    }

    [TestMethod]
    public void Import_TwoLansAndTunedHeartbeat_WarnsOnceForEachClusterWideSetting()
    {
        var import = ImportFile("two-lans.xml");

        _ = Module(import);
        AssertWarnings(
            import,
            ["two-lans.xml:5:11: warning: attribute 'pulse' of <farm>", "heartbeat.interval"],
            ["'mlost_count'"],
            ["'slost_count'", "heartbeat.detection_timeout"],
            ["two-lans.xml:7:8: warning: heartbeat LAN 'heartbeat'", "under 'lans:' in the cluster file"]);
    }

    [TestMethod]
    public void Import_HostsWithPower_WarnsWithTheClusterFileWeightOfEachNode()
    {
        var import = ImportFile("power-hosts.xml");

        var module = Module(import);
        Assert.AreEqual(2, module.Rules.Count);
        AssertWarnings(
            import,
            ["<cluster> of group 'APP' lists the hosts node1, node2, node3"],
            ["set 'weight: 100' on node 'node1'"],
            ["set 'weight: 100' on node 'node2'"],
            ["power-hosts.xml:21:32: warning: power 2 of host 'node3'", "set 'weight: 200' on node 'node3' in the cluster file"]);
    }

    [TestMethod]
    public void Import_CheckerOfEachKind_MapsTcpPingInterfaceAndCustomCheckers()
    {
        var import = ImportFile("checkers.xml");

        var module = Module(import);
        string[] names = [.. module.Checkers.Select(c => $"{c.Name} {c.Type} {c.When} {c.Action} {c.Interval.TotalSeconds}/{c.Timeout.TotalSeconds}")];
        CollectionAssert.AreEqual(
            new[]
            {
                "app-port Tcp Always StopStart 5/2",
                "gateway-pre Ping BeforeStart Wait 10/3",
                "gateway Ping Always Wait 10/3",
                "eth0-link Interface Always Wait 5/2",
                "appchecker Custom Always Restart 10/5",
            },
            names);
        Assert.AreEqual("198.18.0.254", ((PingCheckerConfig)module.Checkers[1]).Address);
        Assert.AreEqual("eth0", ((InterfaceCheckerConfig)module.Checkers[3]).Interface);
        Assert.AreEqual("checkers/appchecker", ((CustomCheckerConfig)module.Checkers[4]).Script);
        string adapter = FileText(import, "checkers/appchecker");
        StringAssert.Contains(adapter, "\"$SAFEUSERBIN\"/'appcheck' '--url' 'http://127.0.0.1:8443/health'");
        Assert.IsTrue(import.Files.Single(f => f.Path == "checkers/appchecker").Executable);
        var warning = import.Warnings.Single();
        Assert.AreEqual((30, 10), (warning.Line, warning.Column));
        StringAssert.Contains(warning.Message, "names the interface by its address 198.18.0.11");
    }

    [TestMethod]
    public void Import_ErrdProcesses_MapsNamesRegexesCountsAndServicesToCheckers()
    {
        var import = ImportFile("errd.xml");

        var module = Module(import);
        Assert.AreEqual("intf-eth0", module.Checkers[0].Name, "<interface> checks its link unless check=\"off\"");
        var appd = (ProcessCheckerConfig)module.Checkers[1];
        Assert.AreEqual(("appd", 1, (int?)null, CheckerAction.Restart, TimeSpan.FromSeconds(10)), (appd.ProcessName, appd.Min, appd.Max, appd.Action, appd.Interval));
        var worker = (ProcessCheckerConfig)module.Checkers[2];
        Assert.AreEqual((".*worker --pool [0-9]+.*", 2, (int?)8, CheckerAction.StopStart), (worker.Regex, worker.Min, worker.Max, worker.Action));
        var redis = (CustomCheckerConfig)module.Checkers[3];
        Assert.AreEqual(("checkers/redis", CheckerAction.Restart), (redis.Script, redis.Action));
        StringAssert.Contains(FileText(import, "checkers/redis"), "exec systemctl is-active --quiet -- 'redis'");
        Assert.AreEqual(TimeSpan.FromHours(24), module.Recovery.LoopInterval, "a bare loop_interval is in hours");
        StringAssert.Contains(import.Warnings.Single().Message, "argregex: Farm matches");
    }

    [TestMethod]
    public void Import_UserTimeoutsAndVariables_SetsStopLimitsAndExportsTheVariablesQuoted()
    {
        var import = ImportTestData.Import(Text("user-vars.xml"), "user-vars.xml", Script("start_both", "#!/bin/sh\n"), Script("stop_both", "#!/bin/sh\n"), Script("env.sh", "X=1\n"));

        var module = Module(import);
        Assert.AreEqual((TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(30)), (module.Timeouts.Stop, module.Timeouts.StopForce));
        string env = FileText(import, "safekit/env.sh");
        StringAssert.Contains(env, "SERVICES='httpd,php-fpm'; export SERVICES\n");
        StringAssert.Contains(env, "APP_HOME='/opt/app it'\\''s here'; export APP_HOME\n");
        string[] paths = [.. import.Files.Select(f => f.Path)];
        CollectionAssert.IsSubsetOf(new[] { "bin/start_both", "bin/stop_both", "safekit/bin/start_both", "safekit/bin/stop_both", "safekit/bin/env.sh", "safekit/shim" }, paths);
        CollectionAssert.DoesNotContain(paths, "bin/env.sh", "only SafeKit's lifecycle scripts get a launcher");
    }

    [TestMethod]
    public void Import_NoUserSection_LeavesTheScriptsUnconnectedWithAWarning()
    {
        var import = ImportTestData.Import(Text("two-lans.xml"), "two-lans.xml", Script("start_both", "#!/bin/sh\n"));

        _ = Module(import);
        Assert.IsFalse(import.Files.Any(f => f.Path == "bin/start_both"));
        StringAssert.Contains(WarningLines(import).Last(), "bin/start_both:1:1: warning: start_both is not connected");
    }

    [TestMethod]
    public void Import_ElementsWithoutEquivalent_WarnsOncePerElementWithWhatToDo()
    {
        var import = ImportFile("no-equivalent.xml");

        _ = Module(import);
        var warnings = import.Warnings.ToList();
        CollectionAssert.AreEqual(
            new[] { (4, "boot_delay"), (8, "tcpreset"), (10, "arpelapse"), (11, "vmac_directed"), (12, "connections"), (18, "arp"), (23, "<vhost>"), (26, "<failover>") },
            warnings.Select(w => (w.Line, Keyword(w.Message))).ToArray(),
            string.Join('\n', warnings));
        Assert.IsTrue(warnings.All(w => !string.IsNullOrWhiteSpace(w.Hint)), "every warning says what to do");
        Assert.IsTrue(warnings.All(w => FileText(import, "farm.yaml").Contains($"line {w.Line}: ", StringComparison.Ordinal)), "farm.yaml lists them at its top");

        static string Keyword(string message) => new[] { "boot_delay", "tcpreset", "arpelapse", "vmac_directed", "connections", "\"arp\"", "<vhost>", "<failover>" }
            .First(k => message.Contains(k, StringComparison.Ordinal)).Trim('"');
    }

    [TestMethod]
    public void Import_MalformedXml_ReportsTheLineAndMakesNoFiles()
    {
        var import = ImportFile("malformed.xml");

        Assert.IsFalse(import.Succeeded);
        Assert.AreEqual(0, import.Files.Count);
        var error = import.Errors.Single();
        Assert.AreEqual(12, error.Line, error.ToString());
        StringAssert.StartsWith(error.ToString(), "malformed.xml:12:");
        StringAssert.Contains(error.Message, "not well-formed XML");
        StringAssert.Contains(error.Message, "virtual_addr");
    }

    [TestMethod]
    public void Import_PortFarmRefuses_ReportsFarmsValidationAtTheRuleElement()
    {
        string xml = Text("simple-farm.xml").Replace("value=\"8080\"", "value=\"70000\"", StringComparison.Ordinal);

        var import = ImportTestData.Import(xml);

        Assert.IsFalse(import.Succeeded);
        var error = import.Errors.Single(e => e.Message.Contains("port rule", StringComparison.Ordinal));
        Assert.AreEqual(20, error.Line, error.ToString());
        StringAssert.Contains(error.Message, "not valid in Farm: ports '70000' of port rule #1 is out of range");
    }

    [TestMethod]
    public void Import_SeveralValuesFarmRefuses_ReportsEachOnceAtItsXmlPlace()
    {
        string xml = Text("simple-farm.xml")
            .Replace("198.18.100.20", "www.example.com", StringComparison.Ordinal)
            .Replace("name=\"eth1\"", "name=\"eth1:0\"", StringComparison.Ordinal)
            .Replace("interval=\"10\" timeout=\"5\"", "interval=\"5\" timeout=\"5\"", StringComparison.Ordinal);

        var import = ImportTestData.Import(xml);

        string[] errors = [.. import.Errors.Select(e => $"{e.Line}:{e.Column} {e.Message}")];
        CollectionAssert.AreEqual(
            new[]
            {
                "12:31 not valid in Farm: 'eth1:0' is not a valid interface name",
                "14:27 not valid in Farm: a VIP is 'www.example.com', which is not an IP address",
                "25:8 not valid in Farm: timeout 5s of checker 'http-web' is not less than its interval 5s",
            },
            errors.Order(StringComparer.Ordinal).ToArray());
        Assert.AreEqual(0, import.Files.Count);
    }

    [TestMethod]
    public void Import_UndefinedMacro_ReportsItAtItsAttribute()
    {
        string xml = Text("simple-farm.xml").Replace("%VIRTUAL_IP%", "%VIP_ADDRESS%", StringComparison.Ordinal);

        var import = ImportTestData.Import(xml);

        var error = import.Errors.First();
        Assert.AreEqual(14, error.Line);
        StringAssert.Contains(error.Message, "%VIP_ADDRESS% in attribute 'addr' of <virtual_addr> is not a macro of this file");
        StringAssert.Contains(error.Hint, "<macro name=\"VIP_ADDRESS\"");
    }

    [TestMethod]
    public void Import_EntityExpansion_IsRefusedAsMalformedAtOnce()
    {
        const string Bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE safe [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>\n<safe><service mode=\"&c;\"/></safe>\n";

        var import = ImportTestData.Import(Bomb);

        var error = import.Errors.Single();
        Assert.AreEqual(3, error.Line);
        StringAssert.Contains(error.Message, "not well-formed XML");
    }

    [TestMethod]
    public void Import_TemplateWithEmptyMacros_ReportsEachEmptyValueWhereItIsUsed()
    {
        string xml = Text("simple-farm.xml")
            .Replace("name=\"WEB_PORT\" value=\"8080\"", "name=\"WEB_PORT\" value=\"\"", StringComparison.Ordinal)
            .Replace("name=\"VIRTUAL_IP\" value=\"198.18.100.20\"", "name=\"VIRTUAL_IP\" value=\"\"", StringComparison.Ordinal);

        var import = ImportTestData.Import(xml);

        CollectionAssert.AreEqual(
            new[]
            {
                "14:27 attribute 'addr' of <virtual_addr> is empty (an empty macro?)",
                "20:17 attribute 'port' of <rule> is empty (an empty macro?)",
                "26:30 attribute 'port' of <to> is empty (an empty macro?)",
            },
            import.Errors.Select(e => $"{e.Line}:{e.Column} {e.Message}").ToArray());
    }

    [TestMethod]
    public void Import_MirrorModule_IsRefusedWithWhatToDoInstead()
    {
        var import = ImportTestData.Import("<safe>\n<service mode=\"mirror\"><heart/></service>\n</safe>");

        var error = import.Errors.Single();
        Assert.AreEqual((2, "mode=\"mirror\": only farm modules can be imported"), (error.Line, error.Message));
        StringAssert.Contains(error.Hint, "mode: single");
    }

    [TestMethod]
    public void Import_FarmWithoutVip_IsAnErrorBecauseAModuleNeedsOne()
    {
        var import = ImportTestData.Import("<!DOCTYPE safe>\n<safe>\n <service mode=\"farm\" boot=\"on\">\n  <farm><lan name=\"default\"/></farm>\n  <user/>\n </service>\n</safe>\n");

        var error = import.Errors.Single();
        Assert.AreEqual(3, error.Line);
        StringAssert.Contains(error.Message, "no <vip>");
    }

    [TestMethod]
    public void Import_ScriptCallingSafeKitCommands_WarnsAtEachUnsupportedCall()
    {
        string script = "#!/bin/sh\n# safekit errd disable in a comment is fine\n\"$SAFE/safekit\" printi starting\n$SAFE/safekit errd enable myclass\nsafekit kill -name=app -level=9\n";

        var import = ImportTestData.Import(Text("simple-farm.xml"), "userconfig.xml", Script("start_both", script));

        string[] calls = [.. WarningLines(import).Where(w => w.Contains("calls 'safekit", StringComparison.Ordinal))];
        Assert.AreEqual(2, calls.Length, string.Join('\n', calls));
        StringAssert.StartsWith(calls[0], "bin/start_both:4:7: warning: calls 'safekit errd'");
        StringAssert.StartsWith(calls[1], "bin/start_both:5:1: warning: calls 'safekit kill'");
    }

    /// <summary>
    /// Asserts one warning line per entry of <paramref name="lines"/>, each containing all of that entry's fragments; a
    /// fragment with its location ("file:line:column: warning: ...") must start the line.
    /// </summary>
    private static void AssertWarnings(SafeKitImport import, params string[][] lines)
    {
        var warnings = WarningLines(import);
        Assert.AreEqual(lines.Length, warnings.Length, string.Join('\n', warnings));
        for (int i = 0; i < lines.Length; i++)
        {
            foreach (string fragment in lines[i])
            {
                if (fragment.Contains(": warning: ", StringComparison.Ordinal))
                {
                    StringAssert.StartsWith(warnings[i], fragment);
                }
                else
                {
                    StringAssert.Contains(warnings[i], fragment);
                }
            }
        }
    }
}

namespace Farm.DataPlane.Tests.Filtering;

[TestClass]
public sealed class NftRulesetTests
{
    [TestMethod]
    public void Install_WebModule_FixesPkttypeOfVmacFramesOnTheVipInterface()
    {
        string text = new NftRuleset(Modules.Web()).Install();

        StringAssert.Contains(text, "table netdev farm_web {");
        StringAssert.Contains(text, "type filter hook ingress device \"eth0\" priority -500; policy accept;");
        StringAssert.Contains(text, "ether daddr { 02:46:c6:12:00:64, 06:46:");
        StringAssert.Contains(text, "} meta pkttype set host");
    }

    [TestMethod]
    public void Install_WebModule_ClassifiesBeforeConntrackAndJudgesHandoverAfterIt()
    {
        string text = new NftRuleset(Modules.Web()).Install();

        StringAssert.Contains(text, "type filter hook prerouting priority raw; policy accept;");
        StringAssert.Contains(text, "iifname \"eth0\" ip daddr @vips4 jump vip4");
        StringAssert.Contains(text, "iifname \"eth0\" ip6 daddr @vips6 jump vip6");
        StringAssert.Contains(text, "type filter hook prerouting priority mangle; policy accept;");
        StringAssert.Contains(text, "chain admit_draining {\n    ct state established,related meta mark set 0 accept\n    counter name handover_drop drop\n  }");
        StringAssert.Contains(text, "ct state new tcp flags & (syn | ack) == syn meta mark set 0 accept");
        StringAssert.Contains(text, "ct state new meta l4proto udp meta mark set 0 accept");
        Assert.IsLessThan(text.IndexOf("priority mangle", StringComparison.Ordinal), text.IndexOf("priority raw", StringComparison.Ordinal));
    }

    [TestMethod]
    public void Install_PortRules_HashWithExplicitSeedAndTheRulesAffinity()
    {
        string text = new NftRuleset(Modules.Web(seed: 0x1234)).Install();

        StringAssert.Contains(text, "tcp dport 8080 counter name rule_0 meta mark set jhash ip saddr mod 256 seed 0x00001234 goto buckets");
        StringAssert.Contains(text, "tcp dport 8081 counter name rule_1 meta mark set jhash ip saddr . th sport mod 256 seed 0x00001234 goto buckets");
        StringAssert.Contains(text, "udp dport 5353 counter name rule_2 meta mark set jhash ip saddr mod 256 seed 0x00001234 goto buckets");
        StringAssert.Contains(text, "tcp dport 8081 counter name rule_1 meta mark set jhash ip6 saddr . th sport mod 256 seed 0x00001234 goto buckets");
        int jhashes = text.Split("jhash").Length - 1;
        int seeds = text.Split("seed 0x00001234").Length - 1;
        Assert.AreEqual(jhashes, seeds, "every jhash carries the explicit seed");
    }

    [TestMethod]
    public void Install_PortRange_UsesNftRange()
    {
        var module = Modules.Web() with { Rules = [new PortRuleConfig { Protocol = TransportProtocol.Udp, FirstPort = 5000, LastPort = 5010, Affinity = Affinity.ClientIpPort }] };

        StringAssert.Contains(new NftRuleset(module).Install(), "udp dport 5000-5010 counter name rule_0 meta mark set jhash ip saddr . th sport mod 256");
    }

    [TestMethod]
    public void Install_LeaseAndEverythingElse_DroppedFailClosed()
    {
        string text = new NftRuleset(Modules.Web()).Install();

        StringAssert.Contains(text, "set lease4 { type ipv4_addr; flags timeout; }");
        StringAssert.Contains(text, "ip daddr != @lease4 counter name nolease drop");
        StringAssert.Contains(text, "ip6 daddr != @lease6 counter name nolease drop");
        StringAssert.Contains(text, "counter name unmatched drop");
        StringAssert.Contains(text, "counter name foreign drop");
        StringAssert.Contains(text, "set owned { type mark; flags interval; }");
    }

    [TestMethod]
    public void Install_StartsByReplacingOldTablesInTheSameBatch()
    {
        string text = new NftRuleset(Modules.Web()).Install();

        Assert.StartsWith("add table inet farm_web\ndelete table inet farm_web\nadd table netdev farm_web\ndelete table netdev farm_web\n", text);
    }

    [TestMethod]
    public void Install_Ipv4OnlyModule_EmptyIpv6SetHasNoElementsClause()
    {
        var module = Modules.Web() with { Vips = [Modules.Vip4] };

        StringAssert.Contains(new NftRuleset(module).Install(), "set vips6 { type ipv6_addr; }");
    }

    [TestMethod]
    public void Apply_Assignment_FlushesAndRefillsTheSetsAndTheStateMapWithRanges()
    {
        var assignment = new BucketAssignment(7, [0, 1, 2, 3, 10, 12, 13], [20], []);

        string text = new NftRuleset(Modules.Web()).Apply(assignment);

        Assert.AreEqual(
            "flush set inet farm_web owned\n" +
            "add element inet farm_web owned { 0-3, 10, 12-13 }\n" +
            "flush set inet farm_web incoming\n" +
            "add element inet farm_web incoming { 20 }\n" +
            "flush set inet farm_web draining\n" +
            "flush set inet farm_web claimed\n" +
            "flush map inet farm_web states\n" +
            "add element inet farm_web states { 0-3 : goto admit_owned, 10 : goto admit_owned, 12-13 : goto admit_owned, 20 : goto admit_incoming }\n" +
            "flush set inet farm_web foreign4\n" +
            "flush set inet farm_web foreign6\n",
            text);
    }

    [TestMethod]
    public void Apply_NoBucket_EmptiesTheStateMap()
    {
        string text = new NftRuleset(Modules.Web()).Apply(BucketAssignment.Empty(3));

        StringAssert.Contains(text, "flush map inet farm_web states\nflush set inet farm_web foreign4\n");
        Assert.DoesNotContain("add element inet farm_web states", text);
    }

    [TestMethod]
    public void Apply_ForeignGiven_WritesThoseFlowsNotTheAssignments()
    {
        var assignment = new BucketAssignment(9, [], [5], [], [], [IPEndPoint.Parse("198.18.1.1:4000")]);

        string text = new NftRuleset(Modules.Web()).Apply(assignment, [IPEndPoint.Parse("198.18.1.1:4000"), IPEndPoint.Parse("198.18.1.9:4009")]);

        StringAssert.Contains(text, "add element inet farm_web foreign4 { 198.18.1.1 . 4000, 198.18.1.9 . 4009 }\n");
    }

    [TestMethod]
    public void Install_WebModule_AdmitDecidesTheStateWithOneMapLookupAndDropsABucketItDoesNotName()
    {
        string text = new NftRuleset(Modules.Web()).Install();

        StringAssert.Contains(text, "map states { type mark : verdict; flags interval; }");
        string admit = text[text.IndexOf("  chain admit {", StringComparison.Ordinal)..];
        admit = admit[..admit.IndexOf("  }", StringComparison.Ordinal)];
        Assert.AreEqual(
            "  chain admit {\n" +
            "    meta l4proto { icmp, ipv6-icmp } ct state related accept\n" +
            "    meta l4proto { icmp, ipv6-icmp } counter name icmp_drop drop\n" +
            "    meta mark vmap @states\n" +
            "    counter name handover_drop drop\n",
            admit,
            "no rule of the admit chain may look a state set up: only the map decides");
        StringAssert.Contains(text, "chain admit_owned {\n    meta mark set 0 accept\n  }");
    }

    [TestMethod]
    public void Apply_ClaimedAndForeignFlows_FillsTheirSetsPerFamily()
    {
        var assignment = new BucketAssignment(
            8, [0], [5], [], [6, 7], [IPEndPoint.Parse("198.18.1.1:4000"), IPEndPoint.Parse("[2001:db8::1:1]:4001"), IPEndPoint.Parse("198.18.1.2:4002")]);

        string text = new NftRuleset(Modules.Web()).Apply(assignment);

        StringAssert.Contains(text, "flush set inet farm_web claimed\nadd element inet farm_web claimed { 6-7 }\n");
        StringAssert.Contains(text, "flush set inet farm_web foreign4\nadd element inet farm_web foreign4 { 198.18.1.1 . 4000, 198.18.1.2 . 4002 }\n");
        StringAssert.Contains(text, "flush set inet farm_web foreign6\nadd element inet farm_web foreign6 { 2001:db8::1:1 . 4001 }\n");
    }

    [TestMethod]
    public void Install_WebModule_ClaimedTakesOnlyNewTcpAndIncomingSkipsForeignUdpFlows()
    {
        string text = new NftRuleset(Modules.Web()).Install();

        StringAssert.Contains(text, "set claimed { type mark; flags interval; }");
        StringAssert.Contains(text, "set foreign4 { type ipv4_addr . inet_service; }");
        StringAssert.Contains(text, "chain admit_claimed {\n    ct state established,related meta mark set 0 accept\n    ct state new tcp flags & (syn | ack) == syn meta mark set 0 accept\n    counter name handover_drop drop\n  }");
        string incoming = text[text.IndexOf("  chain admit_incoming {", StringComparison.Ordinal)..];
        incoming = incoming[..incoming.IndexOf("  }", StringComparison.Ordinal)];
        StringAssert.Contains(incoming, "ct state new ip saddr . udp sport @foreign4 counter name handover_drop drop");
        StringAssert.Contains(incoming, "ct state new ip6 saddr . udp sport @foreign6 counter name handover_drop drop");
        Assert.IsLessThan(
            incoming.IndexOf("ct state new meta l4proto udp meta mark set 0 accept", StringComparison.Ordinal),
            incoming.IndexOf("@foreign4", StringComparison.Ordinal),
            "foreign flows are dropped before new UDP flows are accepted");
    }

    [TestMethod]
    public void Apply_BucketBeyondModuleBuckets_Throws()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new NftRuleset(Modules.Web()).Apply(new BucketAssignment(1, [256], [], [])));
    }

    [TestMethod]
    public void RefreshLease_TwoVips_AddDeleteAddWithMillisecondTimeout()
    {
        string text = new NftRuleset(Modules.Web()).RefreshLease(TimeSpan.FromMilliseconds(600));

        Assert.AreEqual(
            "add element inet farm_web lease4 { 198.18.0.100 }\n" +
            "delete element inet farm_web lease4 { 198.18.0.100 }\n" +
            "add element inet farm_web lease4 { 198.18.0.100 timeout 600ms }\n" +
            "add element inet farm_web lease6 { 2001:db8::100 }\n" +
            "delete element inet farm_web lease6 { 2001:db8::100 }\n" +
            "add element inet farm_web lease6 { 2001:db8::100 timeout 600ms }\n",
            text);
    }

    [TestMethod]
    public void RefreshLease_ZeroDuration_Throws()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new NftRuleset(Modules.Web()).RefreshLease(TimeSpan.Zero));
    }

    [TestMethod]
    public void TableNameOf_DashedModuleName_UsesUnderscores()
    {
        Assert.AreEqual("farm_my_app_2", NftRuleset.TableNameOf("my-app-2"));
    }

    [TestMethod]
    [DataRow("Web")]
    [DataRow("web app")]
    [DataRow("web;flush ruleset")]
    public void TableNameOf_UnsafeModuleName_Throws(string name)
    {
        Assert.ThrowsExactly<ArgumentException>(() => NftRuleset.TableNameOf(name));
    }

    [TestMethod]
    [DataRow("eth0\"; flush ruleset; \"")]
    [DataRow("averyveryverylongname")]
    public void Constructor_UnsafeInterfaceName_Throws(string iface)
    {
        Assert.ThrowsExactly<ArgumentException>(() => new NftRuleset(Modules.Web(iface: iface)));
    }

    [TestMethod]
    public void Ranges_SortedBuckets_CollapsesRuns()
    {
        CollectionAssert.AreEqual(new[] { "0", "2-4", "9", "11-12" }, NftRuleset.Ranges([0, 2, 3, 4, 9, 11, 12]).ToArray());
        Assert.IsEmpty(NftRuleset.Ranges([]).ToArray());
    }

    [TestMethod]
    public void CounterNames_IncludeOnePerRule()
    {
        var names = new NftRuleset(Modules.Web()).CounterNames().ToList();

        CollectionAssert.IsSubsetOf(new[] { "owned", "foreign", "nolease", "rule_0", "rule_1", "rule_2" }, names);
        Assert.AreEqual(names.Count, names.Distinct().Count());
    }
}

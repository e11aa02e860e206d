namespace Farm.Core.Tests.Config;

[TestClass]
public sealed class ClusterConfigParserTests
{
    // Line numbers in the tests below refer to this layout: node a's settings are on lines 5-6.
    private const string Minimal = ConfigSamples.MinimalCluster;

    private static string WithNodeSetting(string setting) => Minimal + "\n      " + setting;

    private static string WithClusterSetting(string yaml) => Minimal.Replace("  nodes:", yaml + "\n  nodes:");

    /// <summary>The minimal file with one more setting of node a (<paramref name="where"/> "node") or of the cluster.</summary>
    private static string With(string where, string setting) => where == "node" ? WithNodeSetting(setting) : WithClusterSetting(setting);

    [TestMethod]
    public void ParseCluster_MinimalFile_AppliesEveryDefault()
    {
        var cluster = ConfigAssert.ValidCluster(Minimal);

        Assert.AreEqual("demo", cluster.Name);
        Assert.AreEqual(0, cluster.Version);
        Assert.AreEqual(9400, cluster.GrpcPort);
        Assert.AreEqual(9410, cluster.ConsolePort);
        Assert.AreEqual(TimeSpan.FromMilliseconds(50), cluster.Heartbeat.Interval);
        Assert.AreEqual(TimeSpan.FromMilliseconds(300), cluster.Heartbeat.DetectionTimeout);
        Assert.AreEqual(TimeSpan.FromMilliseconds(150), cluster.Heartbeat.Lease);
        Assert.AreEqual(SplitBrainPolicy.None, cluster.SplitBrain.Policy);
        Assert.IsNull(cluster.SplitBrain.Witness);
        CollectionAssert.AreEqual(new[] { "default" }, cluster.Lans.ToArray());
        var node = cluster.Nodes.Single();
        Assert.AreEqual("a", node.Name);
        Assert.AreEqual(IPAddress.Parse("198.18.0.1"), node.Addresses.Single());
        Assert.AreEqual(100, node.Weight);
        Assert.AreEqual(0, node.Priority);
    }

    [TestMethod]
    public void ParseCluster_FullFile_ReadsEverySetting()
    {
        var cluster = ConfigAssert.ValidCluster("""
            cluster:
              name: prod-1
              key: "a very long secret value"
              version: 2147483647
              grpc_port: 19400
              console_port: 19410
              heartbeat: { interval: 50ms, detection_timeout: 500ms, lease: 300ms }
              split_brain: { policy: witness, witness: "2001:db8::fe" }
              lans: [pub, priv]
              nodes:
                - { name: a, addresses: [198.18.0.1, "2001:db8:1::1"], weight: 0, priority: 7 }
                - { name: b, addresses: [198.18.0.2, "2001:db8:1::2"], weight: 1000 }
            """);

        Assert.AreEqual(int.MaxValue, cluster.Version);
        Assert.AreEqual(19400, cluster.GrpcPort);
        Assert.AreEqual(19410, cluster.ConsolePort);
        Assert.AreEqual(new HeartbeatOptions { Interval = TimeSpan.FromMilliseconds(50), DetectionTimeout = TimeSpan.FromMilliseconds(500), Lease = TimeSpan.FromMilliseconds(300) }, cluster.Heartbeat);
        Assert.AreEqual(SplitBrainPolicy.Witness, cluster.SplitBrain.Policy);
        Assert.AreEqual(IPAddress.Parse("2001:db8::fe"), cluster.SplitBrain.Witness);
        CollectionAssert.AreEqual(new[] { "pub", "priv" }, cluster.Lans.ToArray());
        Assert.AreEqual(0, cluster.Nodes[0].Weight);
        Assert.AreEqual(7, cluster.Nodes[0].Priority);
        Assert.AreEqual(IPAddress.Parse("2001:db8:1::2"), cluster.Nodes[1].Addresses[1]);
        Assert.AreEqual(1000, cluster.Nodes[1].Weight);
    }

    [TestMethod]
    [DataRow("node", "wieght: 100", 7, 7, "unknown key 'wieght' in node 'a'", "did you mean 'weight'?")]
    [DataRow("node", "colour: red", 7, 7, "unknown key 'colour'", "valid keys are name, addresses, weight, priority")]
    [DataRow("node", "weight: 1001", 7, 15, "'weight' in node 'a' is 1001, out of range", "use a value from 0 to 1000")]
    [DataRow("cluster", "  version: -1", 4, 12, "'version' in cluster is -1, out of range", "use a value from 0 to 2147483647")]
    [DataRow("cluster", "  version: 2147483648", 4, 12, "'version' in cluster is 2147483648, out of range", "use a value from 0 to 2147483647")]
    [DataRow("cluster", "  version: \"3\"", 4, 12, "'version' in cluster must be an integer, found the string \"3\"", "remove the quotes")]
    [DataRow("cluster", "  version: 1.5", 4, 12, "'version' in cluster must be an integer, found '1.5'", "write a whole number from 0 to 2147483647")]
    [DataRow("cluster", "  version:", 4, 3, "'version' in cluster has no value", "give it a value (e.g. 'version: 0') or remove the key to use the default")]
    [DataRow("cluster", "  version: [1]", 4, 12, "'version' in cluster must be a single value, not a list", "write 'version: 0'")]
    [DataRow("cluster", "  verison: 3", 4, 3, "unknown key 'verison' in cluster", "did you mean 'version'?")]
    [DataRow("cluster", "  heartbeat:\n    interval: 5ms", 5, 15, "'interval' in heartbeat is 5ms, out of range", "use a duration from 10ms to 10s")]
    [DataRow("cluster", "  heartbeat:\n    interval: 100msec", 5, 15, "unknown unit 'msec'", ConfigDuration.FormatHint)]
    [DataRow("cluster", "  split_brain: { policy: majorty }", 4, 26, "'majorty', which is not one of none, majority, witness", "did you mean 'majority'?")]
    public void ParseCluster_BadSetting_ReportsAtItsPositionWithHint(string where, string setting, int line, int column, string message, string hint) =>
        Assert.AreEqual(hint, ConfigAssert.SingleError(ConfigAssert.Cluster(With(where, setting)), line, column, message).Hint);

    [TestMethod]
    [DataRow("node", "weight: heavy", 7, 15, "found 'heavy'")]
    [DataRow("node", "weight: \"100\"", 7, 15, "found the string \"100\"")]
    [DataRow("node", "weight: 1.5", 7, 15, "found '1.5'")]
    [DataRow("node", "weight: [1]", 7, 15, "must be a single value, not a list")]
    [DataRow("node", "weight:", 7, 7, "'weight' in node 'a' has no value")]
    [DataRow("node", "priority: -1", 7, 17, "'priority' in node 'a' is -1, out of range")]
    [DataRow("cluster", "  grpc_port: 70000", 4, 14, "out of range")]
    [DataRow("cluster", "  grpc_port: 9410", 4, 3, "console_port and grpc_port are both 9410")]
    [DataRow("cluster", "  split_brain:\n    policy: witness", 5, 13, "needs a witness address")]
    [DataRow("cluster", "  split_brain:\n    policy: majority\n    witness: 198.18.0.254", 6, 5, "policy is 'majority'")]
    [DataRow("cluster", "  heartbeat:\n    interval: 100ms\n    detection_timeout: 300ms", 6, 24, "no lease fits")]
    public void ParseCluster_BadSetting_ReportsAtItsPosition(string where, string setting, int line, int column, string message) =>
        ConfigAssert.SingleError(ConfigAssert.Cluster(With(where, setting)), line, column, message);

    [TestMethod]
    [DataRow("weight: \"100\"", "remove the quotes")]
    [DataRow("weight: \"heavy\"", "write a whole number from 0 to 1000")]
    [DataRow("weight: heavy", "write a whole number from 0 to 1000")]
    public void ParseCluster_WeightWrongType_HintFitsTheMistake(string setting, string hint) =>
        Assert.AreEqual(hint, ConfigAssert.SingleError(ConfigAssert.Cluster(WithNodeSetting(setting)), "must be an integer").Hint);

    [TestMethod]
    public void ParseCluster_DuplicateNodeName_ReportsSecondWithFirstLine()
    {
        var result = ConfigAssert.Cluster(Minimal + "\n    - name: a\n      addresses: [198.18.0.2]");
        ConfigAssert.SingleError(result, 7, 13, "duplicate node name 'a' (first at line 5)");
    }

    [TestMethod]
    public void ParseCluster_DuplicateAddress_NamesTheOwner()
    {
        var result = ConfigAssert.Cluster(Minimal + "\n    - name: b\n      addresses: [198.18.0.1]");
        ConfigAssert.SingleError(result, 8, 19, "address 198.18.0.1 of node 'b' is already used by node 'a'");
    }

    [TestMethod]
    public void ParseCluster_AddressCountDiffersFromLanCount_Reports()
    {
        var result = ConfigAssert.Cluster(WithClusterSetting("  lans: [one, two]"));
        ConfigAssert.SingleError(result, 7, 18, "node 'a' has 1 address(es) but the cluster has 2 LAN(s) (one, two)");
    }

    [TestMethod]
    public void ParseCluster_MixedIpVersionsOnOneLan_Reports()
    {
        var result = ConfigAssert.Cluster(Minimal + "\n    - name: b\n      addresses: [\"2001:db8::2\"]");
        ConfigAssert.SingleError(result, "not of the same IP version as node 'a'");
    }

    [TestMethod]
    [DynamicData(nameof(ConfigSamples.NonUnicastAddresses), typeof(ConfigSamples))]
    public void ParseCluster_NonUnicastNodeAddress_Reports(string address, string reason)
    {
        var result = ConfigAssert.Cluster(Minimal.Replace("198.18.0.1", address));
        ConfigAssert.SingleError(result, 6, 19, reason);
    }

    [TestMethod]
    [DataRow("198.18.0")]
    [DataRow("010.0.0.1")]
    [DataRow("0x0a.0.0.1")]
    [DataRow("198.18.0.1/24")]
    [DataRow("node-a.example")]
    [DataRow("\"[2001:db8::1]\"")]
    public void ParseCluster_MalformedAddress_ReportsNotAnIpAddress(string address) =>
        ConfigAssert.SingleError(ConfigAssert.Cluster(Minimal.Replace("198.18.0.1", address)), 6, 19, "is not an IP address");

    [TestMethod]
    public void ParseCluster_AddressesNotAList_ReportsWrongType() =>
        ConfigAssert.SingleError(ConfigAssert.Cluster(Minimal.Replace("[198.18.0.1]", "198.18.0.1")), 6, 18, "'addresses' in node 'a' must be a list");

    [TestMethod]
    public void ParseCluster_ShortKey_ReportsWithoutEchoingTheKey()
    {
        var error = ConfigAssert.SingleError(ConfigAssert.Cluster(Minimal.Replace("0123456789abcdef", "sekrit-123")), 3, 8, "shorter than 16 characters");
        Assert.DoesNotContain("sekrit", error.ToString());
    }

    [TestMethod]
    public void ClusterConfig_ToString_HidesTheKey()
    {
        var cluster = ConfigAssert.ValidCluster(Minimal);
        string text = cluster.ToString();
        Assert.DoesNotContain("0123456789abcdef", text);
        StringAssert.Contains(text, "Key = ***");
    }

    [TestMethod]
    public void ParseCluster_MissingRequiredKeys_ReportsEachAtTheMapping()
    {
        var result = ConfigAssert.Cluster("cluster:\n  grpc_port: 9400\n");
        var messages = result.Errors.Select(e => e.Message).ToList();
        CollectionAssert.AreEquivalent(
            new[] { "missing required key 'name' in cluster", "missing required key 'key_file' in cluster", "missing required key 'nodes' in cluster" },
            messages);
        Assert.IsTrue(result.Errors.All(e => e.Line == 2 && e.Column == 3 && e.Hint!.StartsWith("add '", StringComparison.Ordinal)));
    }

    [TestMethod]
    [DataRow("Demo")]
    [DataRow("demo_1")]
    [DataRow("-demo")]
    [DataRow("demo-")]
    public void ParseCluster_InvalidName_ReportsWithCleanedSuggestion(string name)
    {
        var error = ConfigAssert.SingleError(ConfigAssert.Cluster(Minimal.Replace("name: demo", "name: " + name)), 2, 9, "is not a valid name");
        StringAssert.Contains(error.Hint, "lower-case letters");
    }

    [TestMethod]
    public void ParseCluster_NameLongerThan63_Reports() =>
        ConfigAssert.SingleError(ConfigAssert.Cluster(Minimal.Replace("name: demo", "name: " + new string('a', 64))), 2, 9, "is not a valid name");

    [TestMethod]
    public void ParseCluster_Version_IsRead() =>
        Assert.AreEqual(42, ConfigAssert.ValidCluster(WithClusterSetting("  version: 42")).Version);

    [TestMethod]
    public void ParseCluster_FiveMistakesFile_ReportsFiveLocatedErrorsWithHints() =>
        ConfigAssert.TestDataErrors(
            "cluster-five-mistakes.yaml",
            "cluster.yaml",
            ConfigFileKind.Cluster,
            (4, 12, "'version' in cluster is -2, out of range"),
            (6, 26, "'policy' in split_brain is 'majorty', which is not one of none, majority, witness"),
            (10, 15, "'weight' in node 'a' must be an integer, found the string \"100\""),
            (13, 7, "unknown key 'wieght' in node 'b'"),
            (14, 7, "duplicate key 'addresses' in node 'b' (first set at line 12)"));

    [TestMethod]
    public void ParseCluster_ConsoleTls_PathsPerNodeAndNotInTheHash()
    {
        var cluster = ConfigAssert.ValidCluster(WithClusterSetting("  console_tls:\n    certificate: /etc/farm/console/{node}.crt\n    key: /etc/farm/console/{node}.key"));

        Assert.AreEqual("/etc/farm/console/n2.crt", cluster.ConsoleTls!.CertificateOf("n2"));
        Assert.AreEqual("/etc/farm/console/n2.key", cluster.ConsoleTls.PrivateKeyOf("n2"));
        Assert.AreEqual(ConfigAssert.ValidCluster(Minimal).ComputeHash(), cluster.ComputeHash(), "each node presents its own certificate");
    }

    [TestMethod]
    public void ParseCluster_ConsoleTlsRelativeKeyAndNoCertificate_ReportsBoth()
    {
        var result = ConfigAssert.Cluster(WithClusterSetting("  console_tls:\n    key: console.key"));

        Assert.HasCount(2, result.Errors, string.Join("\n", result.Errors));
        Assert.IsTrue(result.Errors.Any(e => e.Message.Contains("certificate", StringComparison.Ordinal)), string.Join("\n", result.Errors));
        Assert.IsTrue(result.Errors.Any(e => e.Message.Contains("console_tls.key 'console.key' is not an absolute path", StringComparison.Ordinal)), string.Join("\n", result.Errors));
    }

    [TestMethod]
    public void ParseCluster_DetectionTimeoutBelowThreeIntervals_Reports() =>
        ConfigAssert.SingleError(
            ConfigAssert.Cluster(WithClusterSetting("  heartbeat: { interval: 400ms, detection_timeout: 1s }")),
            "detection_timeout 1s is less than 3 × interval (1200ms)");

    [TestMethod]
    [DataRow("50ms")]
    [DataRow("20ms")]
    [DataRow("201ms")]
    [DataRow("1s")]
    [DataRow("2s")]
    public void ParseCluster_LeaseOutsideItsWindow_Reports(string lease) =>
        ConfigAssert.SingleError(ConfigAssert.Cluster(WithClusterSetting($"  heartbeat:\n    lease: {lease}")), 5, 12, "is outside interval (50ms) < lease <= detection_timeout - 2 × interval (200ms)");

    [TestMethod]
    [DataRow("51ms")]
    [DataRow("200ms")]
    public void ParseCluster_LeaseAtWindowEdges_Accepted(string lease) =>
        Assert.AreEqual(lease, ConfigDuration.Format(ConfigAssert.ValidCluster(WithClusterSetting($"  heartbeat:\n    lease: {lease}")).Heartbeat.Lease));

    [TestMethod]
    public void ParseCluster_DetectionTimeoutSlightlyAboveThreeIntervals_CapsDefaultLease() =>
        Assert.AreEqual(TimeSpan.FromMilliseconds(200), ConfigAssert.ValidCluster(WithClusterSetting("  heartbeat: { interval: 100ms, detection_timeout: 400ms }")).Heartbeat.Lease);

    [TestMethod]
    public void ParseCluster_DetectionTimeoutLoweredWithoutLease_ScalesDefaultLease()
    {
        var cluster = ConfigAssert.ValidCluster(WithClusterSetting("  heartbeat: { interval: 50ms, detection_timeout: 300ms }"));
        Assert.AreEqual(TimeSpan.FromMilliseconds(180), cluster.Heartbeat.Lease);
    }

    [TestMethod]
    public void ParseCluster_DuplicateLan_Reports() =>
        ConfigAssert.SingleError(ConfigAssert.Cluster(WithClusterSetting("  lans: [x, x]").Replace("[198.18.0.1]", "[198.18.0.1, 198.19.0.1]")), 4, 13, "duplicate LAN name 'x'");

    [TestMethod]
    public void ParseCluster_EmptyNodeList_Reports() =>
        ConfigAssert.SingleError(ConfigAssert.Cluster("cluster:\n  name: demo\n  key: 0123456789abcdef\n  nodes: []\n"), 4, 10, "'nodes' is empty");

    [TestMethod]
    public void ParseCluster_65Nodes_ReportsLimit()
    {
        var nodes = string.Concat(Enumerable.Range(1, 65).Select(i => $"\n    - {{ name: n{i}, addresses: [198.18.1.{i}] }}"));
        var result = ConfigAssert.Cluster("cluster:\n  name: demo\n  key: 0123456789abcdef\n  nodes:" + nodes);
        ConfigAssert.SingleError(result, 69, 7, "65 nodes, more than 64");
    }

    [TestMethod]
    public void ParseCluster_64Nodes_IsValid() =>
        Assert.AreEqual(64, ConfigAssert.ValidCluster("cluster:\n  name: demo\n  key: 0123456789abcdef\n  nodes:" +
            string.Concat(Enumerable.Range(1, 64).Select(i => $"\n    - {{ name: n{i}, addresses: [198.18.1.{i}] }}"))).Nodes.Count);

    [TestMethod]
    public void ParseCluster_AllWeightsZero_Reports() =>
        ConfigAssert.SingleError(ConfigAssert.Cluster(WithNodeSetting("weight: 0")), "every node has weight 0");

    [TestMethod]
    public void ParseCluster_FiveMistakes_CollectsAllInOnePass()
    {
        var result = ConfigAssert.Cluster("""
            cluster:
              name: demo
              key: tooshort
              heartbeat:
                interval: 1 second
              nodes:
                - name: a
                  addresses: [198.18.0.1]
                  wieght: 100
                - name: a
                  addresses: [198.18.0.1]
            """);

        var found = result.Errors.Select(e => (e.Line, e.Column)).ToList();
        CollectionAssert.AreEqual(new[] { (3, 8), (5, 15), (9, 7), (10, 13), (11, 19) }, found, string.Join('\n', result.Errors));
        Assert.IsTrue(result.Errors.All(e => !string.IsNullOrEmpty(e.Hint)));
    }

    [TestMethod]
    public void ParseCluster_OnlyALongerIntervalSet_DetectionDefaultsToSixIntervals()
    {
        var heartbeat = ConfigAssert.ValidCluster(WithClusterSetting("  heartbeat: { interval: 100ms }")).Heartbeat;
        Assert.AreEqual((TimeSpan.FromMilliseconds(600), TimeSpan.FromMilliseconds(360)), (heartbeat.DetectionTimeout, heartbeat.Lease));
    }
}

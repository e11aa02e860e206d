using Farm.Protocol.Json;

namespace Farm.Cli.Tests.Status;

[TestClass]
public sealed class StatusJsonTests
{
    [TestMethod]
    public void Format_FixedReport_HasTheDocumentedTopLevelFields()
    {
        using var doc = JsonDocument.Parse(StatusJson.Format(StatusSamples.Report(), indented: true));
        var root = doc.RootElement;

        CollectionAssert.AreEqual(
            new[] { "cluster", "node", "incarnation", "config_hash", "config_version", "epoch", "coordinator", "leaving", "nodes", "config_mismatches", "module_mismatches", "rejected", "module_states" },
            root.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.AreEqual("demo", root.GetProperty("cluster").GetString());
        Assert.AreEqual(7, root.GetProperty("epoch").GetInt64());
        Assert.AreEqual("n1", root.GetProperty("coordinator").GetString());
        Assert.AreEqual(1764000000001, root.GetProperty("incarnation").GetInt64());
    }

    [TestMethod]
    public void Format_FixedReport_NodesCarryStateModulesAndLans()
    {
        using var doc = JsonDocument.Parse(StatusJson.Format(StatusSamples.Report(), indented: true));
        var nodes = doc.RootElement.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("name").GetString()!);

        var n1 = nodes["n1"];
        CollectionAssert.AreEqual(
            new[] { "name", "self", "state", "incarnation", "in_view", "leaving", "drain_state", "weight", "config_matches", "config_hash", "modules", "lans" },
            n1.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.IsTrue(n1.GetProperty("self").GetBoolean());
        var web = n1.GetProperty("modules")[0];
        Assert.AreEqual(("web", "ready", 2048, 4096, 50.0, 12, 0),
            (web.GetProperty("module").GetString(), web.GetProperty("readiness").GetString(), web.GetProperty("buckets").GetInt32(),
             web.GetProperty("bucket_count").GetInt32(), web.GetProperty("share_percent").GetDouble(), web.GetProperty("incoming").GetInt32(),
             web.GetProperty("draining").GetInt32()));

        var n2web = nodes["n2"].GetProperty("modules")[0];
        Assert.AreEqual(JsonValueKind.Null, n2web.GetProperty("incoming").ValueKind, "n2's heartbeats did not say: not known");
        Assert.AreEqual(JsonValueKind.Null, n2web.GetProperty("oldest_drain_ms").ValueKind);
        Assert.AreEqual("none", nodes["n2"].GetProperty("drain_state").GetString());
        var n2lan = nodes["n2"].GetProperty("lans")[0];
        Assert.AreEqual(("default", "198.18.0.2", true, 40L),
            (n2lan.GetProperty("lan").GetString(), n2lan.GetProperty("address").GetString(), n2lan.GetProperty("reachable").GetBoolean(), n2lan.GetProperty("last_heard_ms").GetInt64()));
        Assert.AreEqual(JsonValueKind.Null, nodes["n2"].GetProperty("config_hash").ValueKind, "a matching peer's hash is ours: not repeated");

        Assert.AreEqual("down", nodes["n3"].GetProperty("state").GetString());
        Assert.AreEqual("unknown", nodes["n3"].GetProperty("modules")[0].GetProperty("readiness").GetString());
        var n4 = nodes["n4"];
        Assert.AreEqual(("excluded", false, StatusSamples.TheirHash),
            (n4.GetProperty("state").GetString(), n4.GetProperty("config_matches").GetBoolean(), n4.GetProperty("config_hash").GetString()));
        Assert.AreEqual(JsonValueKind.Null, n4.GetProperty("lans")[0].GetProperty("last_heard_ms").ValueKind, "never heard");
    }

    [TestMethod]
    public void Format_DrainingPeerAndConfigVersion_ShowStateCountsAndOldestDrain()
    {
        var report = StatusSamples.Report();
        report.ConfigVersion = 3;
        StatusSamples.DrainN2(report);

        using var doc = JsonDocument.Parse(StatusJson.Format(report, indented: true));
        Assert.AreEqual(3, doc.RootElement.GetProperty("config_version").GetInt64());
        var json = doc.RootElement.GetProperty("nodes")[1];
        var web = json.GetProperty("modules")[0];
        Assert.AreEqual(("draining", true, 0, 0, 40, 1234L),
            (json.GetProperty("drain_state").GetString(), json.GetProperty("leaving").GetBoolean(), web.GetProperty("buckets").GetInt32(),
             web.GetProperty("incoming").GetInt32(), web.GetProperty("draining").GetInt32(), web.GetProperty("oldest_drain_ms").GetInt64()));
    }

    [TestMethod]
    public void Format_ModuleMismatch_NamesModuleNodeHashesAndSettings()
    {
        var report = StatusSamples.Report();
        report.ModuleMismatches.Add(new Farm.Protocol.V1.ModuleMismatch { Module = "web", Node = "n2", TheirHash = "aa", AgreedHash = "bb", Settings = { "seed", "buckets" } });

        using var doc = JsonDocument.Parse(StatusJson.Format(report, indented: true));
        var mismatch = doc.RootElement.GetProperty("module_mismatches").EnumerateArray().Single();

        Assert.AreEqual(("web", "n2", "aa", "bb"),
            (mismatch.GetProperty("module").GetString(), mismatch.GetProperty("node").GetString(), mismatch.GetProperty("their_hash").GetString(), mismatch.GetProperty("agreed_hash").GetString()));
        CollectionAssert.AreEqual(new[] { "seed", "buckets" }, mismatch.GetProperty("settings").EnumerateArray().Select(e => e.GetString()).ToArray());
    }

    [TestMethod]
    public void Format_FixedReport_MismatchesAndRejections()
    {
        using var doc = JsonDocument.Parse(StatusJson.Format(StatusSamples.Report(), indented: true));
        var mismatch = doc.RootElement.GetProperty("config_mismatches")[0];
        Assert.AreEqual(("n4", StatusSamples.TheirHash, StatusSamples.OurHash),
            (mismatch.GetProperty("node").GetString(), mismatch.GetProperty("their_hash").GetString(), mismatch.GetProperty("our_hash").GetString()));

        var rejected = doc.RootElement.GetProperty("rejected").EnumerateArray().ToArray();
        Assert.AreEqual(2, rejected.Length);
        Assert.AreEqual(("127.0.0.1", "bad_mac", 3UL, "n2"),
            (rejected[0].GetProperty("source").GetString(), rejected[0].GetProperty("reason").GetString(), rejected[0].GetProperty("count").GetUInt64(),
             rejected[0].GetProperty("last_claimed_sender").GetString()));
        Assert.AreEqual(JsonValueKind.Null, rejected[1].GetProperty("last_claimed_sender").ValueKind);
    }

    [TestMethod]
    public void Format_NotIndented_IsOneLine()
    {
        string line = StatusJson.Format(StatusSamples.Report(), indented: false);
        Assert.IsFalse(line.Contains('\n'), "--watch --json writes one object per line");
        using var doc = JsonDocument.Parse(line);
        Assert.AreEqual(4, doc.RootElement.GetProperty("nodes").GetArrayLength());
    }
}

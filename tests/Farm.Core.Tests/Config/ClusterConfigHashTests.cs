using System.Security.Cryptography;

namespace Farm.Core.Tests.Config;

[TestClass]
public sealed class ClusterConfigHashTests
{
    private const string Base = ConfigSamples.TwoNodeCluster;

    private static string Hash(string yaml) => ConfigAssert.ValidCluster(yaml).ComputeHash();

    [TestMethod]
    public void ComputeHash_SameText_IsStableLowerHexSha256()
    {
        string hash = Hash(Base);
        Assert.AreEqual(hash, Hash(Base));
        Assert.AreEqual(64, hash.Length);
        Assert.IsTrue(hash.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'));
    }

    [TestMethod]
    public void ComputeHash_KeyOrderWhitespaceCommentsAndFlowStyle_DoNotChangeIt()
    {
        const string reordered = """
            # same cluster, written differently
            cluster:
              nodes:
                - { weight: 50, addresses: [ 198.18.0.2 , 198.19.0.2 ], name: b }
                - addresses:
                    - 198.18.0.1
                    - 198.19.0.1
                  name: a      # node order differs too
              lans:
                - pub
                - priv
              key: "0123456789abcdef"
              name: 'demo'
            """;
        Assert.AreEqual(Hash(Base), Hash(reordered));
    }

    [TestMethod]
    public void ComputeHash_ExplicitDefaults_SameAsImplicit()
    {
        string explicitDefaults = Base.Replace("  lans:", "  grpc_port: 9400\n  console_port: 9410\n  heartbeat: { interval: 50ms, detection_timeout: 300ms, lease: 150ms }\n  split_brain: { policy: none }\n  lans:");
        Assert.AreEqual(Hash(Base), Hash(explicitDefaults));
    }

    [TestMethod]
    [DataRow("key: 0123456789abcdef", "key: 0123456789abcdeF")]
    [DataRow("name: demo", "name: demo2")]
    [DataRow("198.19.0.2", "198.19.0.3")]
    [DataRow("lans: [pub, priv]", "lans: [pub, private]")]
    [DataRow("weight: 100", "weight: 100\n      priority: 1")]
    [DataRow("weight: 50", "weight: 50\n    - name: c\n      addresses: [198.18.0.3, 198.19.0.3]")]
    [DataRow("  lans:", "  heartbeat: { interval: 200ms }\n  lans:")]
    [DataRow("  lans:", "  split_brain: { policy: majority }\n  lans:")]
    public void ComputeHash_BehaviourChange_ChangesIt(string from, string to) =>
        Assert.AreNotEqual(Hash(Base), Hash(Base.Replace(from, to)));

    [TestMethod]
    [DataRow("weight: 50", "weight: 51")]
    [DataRow("weight: 100", "weight: 0")]
    [DataRow("  lans:", "  version: 7\n  lans:")]
    [DataRow("  lans:", "  version: 0\n  lans:")]
    public void ComputeHash_WeightOrVersionChange_DoesNotChangeIt(string from, string to)
    {
        // Each node announces its own weight from its own file, and both change live: nodes whose files differ only
        // there must still admit each other.
        string changed = Base.Replace(from, to);
        Assert.AreNotEqual(Base, changed, "the replacement must apply");
        Assert.AreEqual(Hash(Base), Hash(changed));
    }

    [TestMethod]
    public void Canonical_ContainsKeyHashNotKey()
    {
        var cluster = ConfigAssert.ValidCluster(Base);
        string canonical = ClusterConfigHasher.Canonical(cluster);
        Assert.DoesNotContain("0123456789abcdef", canonical);
        StringAssert.Contains(canonical, "key_sha256=" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("0123456789abcdef"))));
        Assert.AreEqual(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))), cluster.ComputeHash());
    }

    [TestMethod]
    public void Canonical_Layout_IsPinned()
    {
        // Nodes of different versions compare this hash: a change of layout must be deliberate (bump the format line).
        // Weights and version are deliberately absent (format 2): they change live and may differ between nodes.
        string expected = string.Join('\n',
            "format=farm-cluster-config/2",
            "name=demo",
            "key_sha256=" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("0123456789abcdef"))),
            "grpc_port=9400",
            "console_port=9410",
            "heartbeat.interval_ms=50",
            "heartbeat.detection_timeout_ms=300",
            "heartbeat.lease_ms=150",
            "split_brain.policy=none",
            "split_brain.witness=-",
            "lans=pub,priv",
            "node.a.addresses=198.18.0.1,198.19.0.1",
            "node.a.priority=0",
            "node.b.addresses=198.18.0.2,198.19.0.2",
            "node.b.priority=0",
            "");
        Assert.AreEqual(expected, ClusterConfigHasher.Canonical(ConfigAssert.ValidCluster(Base)));
    }

    [TestMethod]
    public void ComputeHash_Ipv6Spellings_Canonicalized()
    {
        string a = Base.Replace("198.19.0.1", "\"2001:db8::1\"").Replace("198.19.0.2", "\"2001:db8::2\"");
        string b = Base.Replace("198.19.0.1", "\"2001:DB8:0:0::1\"").Replace("198.19.0.2", "\"2001:0db8::0002\"");
        Assert.AreEqual(Hash(a), Hash(b));
    }
}

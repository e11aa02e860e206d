using Farm.Protocol.V1;

namespace Farm.Cli.Tests.Status;

/// <summary>A fixed status: n1 answers, n2 is up, n3 is down, n4's cluster file differs; two refusals counted.</summary>
internal static class StatusSamples
{
    public const string OurHash = "6e16e2abcc40da4b4f3271b3f1ca65b31e6bb57263a4eefc1e71bab6b19594b4";
    public const string TheirHash = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809";

    /// <summary>Makes <paramref name="report"/>'s n2 a node that drains: leaving, no buckets, 40 connections draining, the oldest for 1.234 s.</summary>
    public static void DrainN2(NodeStatusReport report)
    {
        var n2 = report.Nodes[1];
        n2.Leaving = true;
        n2.DrainState = DrainState.Draining;
        n2.Buckets[0].Buckets = 0;
        n2.Buckets[0].Incoming = 0;
        n2.Buckets[0].Draining = 40;
        n2.Buckets[0].OldestDrainAgeMs = 1234;
    }

    public static NodeStatusReport Report()
    {
        var report = new NodeStatusReport
        {
            Cluster = "demo",
            Node = "n1",
            Incarnation = 1764000000001,
            ConfigHash = OurHash,
            InstalledEpoch = 7,
            Coordinator = "n1",
        };
        report.Nodes.Add(Node("n1", NodeState.Up, 1764000000001, inView: true, self: true, web: (2048, ModuleReadiness.Ready), lan: ("198.18.0.1", true, 0)));
        report.Nodes[0].Buckets[0].Incoming = 12;
        report.Nodes[0].Buckets[0].Draining = 0;
        report.Nodes.Add(Node("n2", NodeState.Up, 1764000000002, inView: true, self: false, web: (2048, ModuleReadiness.Ready), lan: ("198.18.0.2", true, 40)));
        report.Nodes.Add(Node("n3", NodeState.Down, 1764000000003, inView: false, self: false, web: (0, ModuleReadiness.Unknown), lan: ("198.18.0.3", false, 12_300)));
        var n4 = Node("n4", NodeState.Excluded, 0, inView: false, self: false, web: (0, ModuleReadiness.Unknown), lan: ("198.18.0.4", false, -1));
        n4.ConfigMatches = false;
        n4.ConfigHash = TheirHash;
        report.Nodes.Add(n4);
        report.ConfigMismatches.Add(new ConfigMismatch { Node = "n4", TheirHash = TheirHash, OurHash = OurHash });
        report.Rejected.Add(new RejectionCounter { Source = "127.0.0.1", Reason = "bad_mac", Count = 3, LastClaimedSender = "n2" });
        report.Rejected.Add(new RejectionCounter { Source = "reply from n3", Reason = "replayed", Count = 1, LastClaimedSender = "" });
        return report;
    }

    private static NodeStatus Node(string name, NodeState state, long incarnation, bool inView, bool self, (int Buckets, ModuleReadiness Readiness) web, (string Address, bool Reachable, long Age) lan)
    {
        var node = new NodeStatus
        {
            Name = name,
            State = state,
            Incarnation = incarnation,
            InView = inView,
            IsSelf = self,
            ConfigMatches = true,
            ConfigHash = self ? OurHash : "",
            Weight = 100,
        };
        node.Buckets.Add(new ModuleBuckets { Module = "web", Buckets = web.Buckets, BucketCount = 4096, Readiness = web.Readiness });
        node.Lans.Add(new LanReachability { Lan = "default", Address = lan.Address, Reachable = lan.Reachable, LastHeardAgeMs = lan.Age });
        return node;
    }
}

using Farm.Cluster.Membership;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Tests.Transport;

[TestClass]
public sealed class MessageMapperTests
{
    private static readonly MemberInfo A = new("a", 11, 100, 1, false, ["db", "web"]);
    private static readonly MemberInfo B = new("b", 22, 50, 0, true, ["web"]);
    private static readonly ModuleSpec[] Modules = [new("web", 256, BucketMode.Balance, false), new("db", 512, BucketMode.Single, true)];

    [TestMethod]
    public void PrepareRequest_WithBaseTables_RoundTripsWithSameFingerprint()
    {
        var tables = ClusterView.ComputeTables(null, [A, B], Modules, 3);
        var request = new PrepareRequest(new ViewId(4, "a", 11), [A, B], new ViewId(3, "b", 22), [B], ClusterView.ComputeFingerprint(tables), tables);

        var back = (PrepareRequest)RoundTripRequest(request);

        Assert.AreEqual(request.Id, back.Id);
        Assert.AreEqual(request.Base, back.Base);
        Assert.AreEqual(request.TablesFingerprint, back.TablesFingerprint);
        Assert.IsTrue(back.Members.SequenceEqual(request.Members));
        Assert.IsTrue(back.Removed.SequenceEqual(request.Removed));
        Assert.IsNotNull(back.BaseTables);
        Assert.AreEqual(ClusterView.ComputeFingerprint(tables), ClusterView.ComputeFingerprint(back.BaseTables));
        Assert.AreEqual(tables["db"].CountOf("a"), back.BaseTables["db"].CountOf("a"));
    }

    [TestMethod]
    public void HeartbeatRequest_DrainReport_RoundTripsRangesFlowsAndAges()
    {
        var report = new DrainReport(new ViewId(5, "a", 11), [
            new ModuleDrainReport("web", [1, 2, 3, 7, 100, 101], [new FlowKey(System.Net.IPAddress.Parse("198.18.1.1"), 4000), new FlowKey(System.Net.IPAddress.Parse("2001:db8::7"), 53)], 4, TimeSpan.FromMilliseconds(1500)),
            new ModuleDrainReport("db", [], [], 12, null),
        ]);
        var request = new HeartbeatRequest(A, "hash", new ViewId(5, "a", 11), null, false, report);

        var back = ((HeartbeatRequest)RoundTripRequest(request)).Drains;

        Assert.IsNotNull(back);
        Assert.AreEqual(report, back, "value equality: view, buckets, flows and incoming counts");
        Assert.AreEqual(TimeSpan.FromMilliseconds(1500), back.Find("web")!.OldestDrainAge);
        Assert.IsNull(back.Find("db")!.OldestDrainAge);
        Assert.IsNull(((HeartbeatRequest)RoundTripRequest(request with { Drains = null })).Drains, "no report stays no report (older senders)");
    }

    [TestMethod]
    public void HeartbeatRequest_Clocks_RoundTripToTheMicrosecondAndStayAbsentWhenAbsent()
    {
        var request = new HeartbeatRequest(A, "hash", null, null, SentAt: TimeSpan.FromTicks(123_456_789_0), Echo: TimeSpan.Zero);

        var back = (HeartbeatRequest)RoundTripRequest(request);
        var older = (HeartbeatRequest)RoundTripRequest(request with { SentAt = null, Echo = null });

        Assert.AreEqual(request.SentAt, back.SentAt);
        Assert.AreEqual(TimeSpan.Zero, back.Echo, "an echo of 0 (our clock's first moment) is an echo, not none");
        Assert.IsNull(older.SentAt, "a sender of an older release sends no clock");
        Assert.IsNull(older.Echo);
    }

    [TestMethod]
    public void HeartbeatRequest_Gone_RoundTripsAndIsAbsentWhenEmpty()
    {
        var request = new HeartbeatRequest(A, "hash", null, null, Gone: ["n3", "n5"]);

        var back = (HeartbeatRequest)RoundTripRequest(request);
        var none = (HeartbeatRequest)RoundTripRequest(request with { Gone = [] });

        CollectionAssert.AreEqual(new[] { "n3", "n5" }, back.Gone!.ToArray());
        Assert.IsNull(none.Gone, "nothing gone reads as none, as from a sender of an older release");
    }

    [TestMethod]
    public void ParseRequest_MoreGonePeersThanTheClusterHasNodes_FormatException()
    {
        var message = (Wire.HeartbeatRequest)MessageMapper.ToProto(new HeartbeatRequest(A, "hash", null, null));
        message.Gone.AddRange(["n1", "n2", "n3", "n4"]);

        var ex = Assert.ThrowsExactly<FormatException>(() => MessageMapper.ParseRequest(MethodPaths.Heartbeat, message.ToByteString(), new MessageLimits { MaxMembers = 3 }));
        StringAssert.Contains(ex.Message, "at most 3 nodes");
    }

    [TestMethod]
    public void ParseRequest_NegativeClockReading_FormatException()
    {
        var message = (Wire.HeartbeatRequest)MessageMapper.ToProto(new HeartbeatRequest(A, "hash", null, null));
        message.EchoUs = -5;

        Assert.ThrowsExactly<FormatException>(() => MessageMapper.ParseRequest(MethodPaths.Heartbeat, message.ToByteString()));
    }

    [TestMethod]
    public void ParseRequest_DrainRangesNotAscending_FormatException()
    {
        var message = (Wire.HeartbeatRequest)MessageMapper.ToProto(new HeartbeatRequest(A, "hash", null, null));
        message.Drains = new Wire.DrainReport();
        message.Drains.Modules.Add(new Wire.ModuleDrain { Module = "web", DrainingRanges = { 10, 12, 11, 13 } });

        Assert.ThrowsExactly<FormatException>(() => MessageMapper.ParseRequest(MethodPaths.Heartbeat, message.ToByteString()));
    }

    [TestMethod]
    public void PrepareRequest_WithoutBaseOrTables_StaysWithout()
    {
        var request = new PrepareRequest(new ViewId(1, "a", 11), [A], null, [], 99, null);

        var back = (PrepareRequest)RoundTripRequest(request);

        Assert.IsNull(back.Base);
        Assert.IsNull(back.BaseTables, "absent tables must not become an empty set");
    }

    [TestMethod]
    public void GetViewReply_View_RoundTripsMembersAndTables()
    {
        var view = new ClusterView(new ViewId(7, "a", 11), [B, A], ClusterView.ComputeTables(null, [A, B], Modules, 7));

        var back = (GetViewReply)RoundTripReply(MethodPaths.GetView, new GetViewReply(view));

        Assert.IsNotNull(back.View);
        Assert.AreEqual(view.Id, back.View.Id);
        Assert.IsTrue(back.View.Members.SequenceEqual(view.Members));
        Assert.AreEqual(view.TablesFingerprint, back.View.TablesFingerprint);
        Assert.IsNull(((GetViewReply)RoundTripReply(MethodPaths.GetView, new GetViewReply(null))).View);
    }

    [TestMethod]
    public void HeartbeatAndPrepareReply_RoundTripEveryField()
    {
        var hb = new HeartbeatReply(B, "hash", new ViewId(2, "a", 11), null, true);
        var back = (HeartbeatReply)RoundTripReply(MethodPaths.Heartbeat, hb);
        Assert.AreEqual(hb, back);

        var rejected = new PrepareReply(new ViewId(2, "a", 11), false, "still hears b", false, [B]);
        var backRejected = (PrepareReply)RoundTripReply(MethodPaths.Prepare, rejected);
        Assert.AreEqual("still hears b", backRejected.Reason);
        Assert.IsTrue(backRejected.StillHeard.SequenceEqual([B]));
        Assert.IsNull(((PrepareReply)RoundTripReply(MethodPaths.Prepare, rejected with { Reason = null })).Reason);
    }

    [TestMethod]
    public void ParseRequest_MissingSender_FormatException()
    {
        var payload = new Farm.Protocol.V1.HeartbeatRequest { ConfigHash = "h" }.ToByteString();

        Assert.ThrowsExactly<FormatException>(() => MessageMapper.ParseRequest(MethodPaths.Heartbeat, payload));
        Assert.ThrowsExactly<FormatException>(() => MessageMapper.ParseRequest(MethodPaths.Commit, ByteString.CopyFrom(0xff, 0xff)));
    }

    [TestMethod]
    public void ParseReply_TableWithOwnerOutOfRange_FormatException()
    {
        var table = new Farm.Protocol.V1.ModuleTable { Module = "web", Epoch = 1, Owners = ByteString.CopyFrom(new byte[512].Select(_ => (byte)5).ToArray()) };
        table.Members.Add("a");
        table.Weights.Add(1);
        var view = new Farm.Protocol.V1.View { Id = new Farm.Protocol.V1.ViewId { Epoch = 1, Coordinator = "a" }, Tables = new Farm.Protocol.V1.TableSet { Tables = { table } } };

        Assert.ThrowsExactly<FormatException>(() =>
            MessageMapper.ParseReply(MethodPaths.GetView, new Farm.Protocol.V1.GetViewReply { View = view }.ToByteString()));
    }

    // ---- what a peer sends is bounded before it is expanded (MessageLimits) ----

    private static readonly MessageLimits Limits = MessageLimits.For(new MembershipOptions { ConfiguredNodes = ["a", "b", "c"] }, Modules);

    [TestMethod]
    public void ParseRequest_DrainRangeBeyondModuleBucketCount_PartDroppedRestKept()
    {
        // A sender whose definition of "web" differs drains in a table of another shape: not this node's buckets.
        var payload = HeartbeatWithDrains(
            new Wire.ModuleDrain { Module = "web", DrainingRanges = { 250, 256 } },
            new Wire.ModuleDrain { Module = "db", DrainingRanges = { 1, 1 } });

        var drains = ((HeartbeatRequest)MessageMapper.ParseRequest(MethodPaths.Heartbeat, payload, Limits)).Drains!;

        Assert.IsNull(drains.Find("web"));
        CollectionAssert.AreEqual(new[] { 1 }, drains.Find("db")!.Draining.ToArray());
    }

    [TestMethod]
    public void ParseRequest_DrainRangeBeyondMaxBucketCount_FormatException()
    {
        var payload = HeartbeatWithDrains(new Wire.ModuleDrain { Module = "web", DrainingRanges = { 250, 65536 } });

        var ex = Assert.ThrowsExactly<FormatException>(() => MessageMapper.ParseRequest(MethodPaths.Heartbeat, payload, Limits));
        StringAssert.Contains(ex.Message, "65536 buckets");
    }

    [TestMethod]
    public void ParseRequest_DrainRangeWithinModuleBucketCount_ExpandsExactly()
    {
        var payload = HeartbeatWithDrains(new Wire.ModuleDrain { Module = "web", DrainingRanges = { 0, 2, 250, 255 } });

        var drains = ((HeartbeatRequest)MessageMapper.ParseRequest(MethodPaths.Heartbeat, payload, Limits)).Drains!;

        CollectionAssert.AreEqual(new[] { 0, 1, 2, 250, 251, 252, 253, 254, 255 }, drains.Find("web")!.Draining.ToArray());
    }

    [TestMethod]
    public void ParseRequest_DrainRangeStartAfterEnd_FormatException()
    {
        var payload = HeartbeatWithDrains(new Wire.ModuleDrain { Module = "web", DrainingRanges = { 20, 10 } });

        Assert.ThrowsExactly<FormatException>(() => MessageMapper.ParseRequest(MethodPaths.Heartbeat, payload, Limits));
    }

    [TestMethod]
    public void ParseRequest_DrainRangesOverlapping_FormatException()
    {
        var payload = HeartbeatWithDrains(new Wire.ModuleDrain { Module = "web", DrainingRanges = { 10, 12, 12, 13 } });

        Assert.ThrowsExactly<FormatException>(() => MessageMapper.ParseRequest(MethodPaths.Heartbeat, payload, Limits));
    }

    [TestMethod]
    public void ParseRequest_DrainRangesOddLength_FormatException()
    {
        var payload = HeartbeatWithDrains(new Wire.ModuleDrain { Module = "web", DrainingRanges = { 10, 12, 14 } });

        Assert.ThrowsExactly<FormatException>(() => MessageMapper.ParseRequest(MethodPaths.Heartbeat, payload, Limits));
    }

    [TestMethod]
    public void ParseRequest_DrainModuleNamedTwice_FormatException()
    {
        var payload = HeartbeatWithDrains(
            new Wire.ModuleDrain { Module = "web", DrainingRanges = { 0, 1 } }, new Wire.ModuleDrain { Module = "web", DrainingRanges = { 5, 6 } });

        var ex = Assert.ThrowsExactly<FormatException>(() => MessageMapper.ParseRequest(MethodPaths.Heartbeat, payload, Limits));
        StringAssert.Contains(ex.Message, "twice");
    }

    [TestMethod]
    public void ParseRequest_DrainReportNamingMoreThanMaxModules_FormatException()
    {
        var parts = Enumerable.Range(0, MessageLimits.MaxModules + 1).Select(i => new Wire.ModuleDrain { Module = $"m{i}" }).ToArray();

        Assert.ThrowsExactly<FormatException>(() =>
            MessageMapper.ParseRequest(MethodPaths.Heartbeat, HeartbeatWithDrains(parts), MessageLimits.Unconfigured));
    }

    [TestMethod]
    public void ParseRequest_DrainOfModuleNotRunHere_CheckedAndDropped()
    {
        var payload = HeartbeatWithDrains(
            new Wire.ModuleDrain { Module = "other", DrainingRanges = { 0, BucketTable.MaxBucketCount - 1 } },
            new Wire.ModuleDrain { Module = "db", DrainingRanges = { 7, 7 } });

        var drains = ((HeartbeatRequest)MessageMapper.ParseRequest(MethodPaths.Heartbeat, payload, Limits)).Drains!;

        Assert.IsNull(drains.Find("other"), "the manager reads only its own modules: nothing to expand");
        CollectionAssert.AreEqual(new[] { 7 }, drains.Find("db")!.Draining.ToArray());
        Assert.ThrowsExactly<FormatException>(() => MessageMapper.ParseRequest(MethodPaths.Heartbeat,
            HeartbeatWithDrains(new Wire.ModuleDrain { Module = "other", DrainingRanges = { 0, BucketTable.MaxBucketCount } }), Limits));
    }

    [TestMethod]
    public void ParseRequest_EightKilobyteHeartbeatOfFullRanges_RefusedQuicklyWithLittleAllocated()
    {
        // The attack as reported: one 8 KB heartbeat whose drain parts each name every bucket expanded into a 787 MB list.
        // Every part is as small as the wire allows; names repeat (caught as a duplicate) or are all distinct (caught by count).
        var repeated = Enumerable.Range(0, 600).Select(_ => new Wire.ModuleDrain { Module = "web", DrainingRanges = { 0, BucketTable.MaxBucketCount - 1 } });
        var distinct = Enumerable.Range(0, 600).Select(i => new Wire.ModuleDrain { Module = $"{i}", DrainingRanges = { 0, BucketTable.MaxBucketCount - 1 } });

        foreach (var (parts, limits) in new[] { (repeated, Limits), (repeated, MessageLimits.Unconfigured), (distinct, Limits), (distinct, MessageLimits.Unconfigured) })
        {
            var payload = HeartbeatWithDrains([.. parts]);
            Assert.IsTrue(payload.Length <= 8 * 1024, $"{payload.Length} bytes");
            long before = GC.GetAllocatedBytesForCurrentThread();
            long start = TimeProvider.System.GetTimestamp();

            Assert.ThrowsExactly<FormatException>(() => MessageMapper.ParseRequest(MethodPaths.Heartbeat, payload, limits));

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.IsTrue(allocated < 64L * payload.Length, $"{allocated} bytes allocated to refuse {payload.Length}");
            Assert.IsTrue(TimeProvider.System.GetElapsedTime(start) < TimeSpan.FromSeconds(1), "refused quickly");
        }
    }

    [TestMethod]
    public void ParseRequest_UdpFlowsAddressLengthNeither4Nor16_FormatException()
    {
        var payload = HeartbeatWithDrains(new Wire.ModuleDrain { Module = "web", UdpFlows = ByteString.CopyFrom(5, 1, 2, 3, 4, 5, 0, 80) });

        var ex = Assert.ThrowsExactly<FormatException>(() => MessageMapper.ParseRequest(MethodPaths.Heartbeat, payload, Limits));
        StringAssert.Contains(ex.Message, "address length 5");
    }

    [TestMethod]
    public void ParseRequest_UdpFlowsEndingInsideAnEntry_FormatException()
    {
        // One whole IPv4 entry, then an IPv6 entry cut after its address.
        byte[] flows = [4, 198, 18, 1, 1, 0x0f, 0xa0, 16, .. new byte[16]];
        var payload = HeartbeatWithDrains(new Wire.ModuleDrain { Module = "web", UdpFlows = ByteString.CopyFrom(flows) });

        Assert.ThrowsExactly<FormatException>(() => MessageMapper.ParseRequest(MethodPaths.Heartbeat, payload, Limits));
    }

    [TestMethod]
    public void ParseReply_UdpFlowsWholeIpv4AndIpv6Entries_Kept()
    {
        byte[] flows = [4, 198, 18, 1, 1, 0x0f, 0xa0, 16, 0x20, 0x01, 0x0d, 0xb8, .. new byte[12], 0x9c, 0x40];
        var reply = (Wire.HeartbeatReply)MessageMapper.ToProto(new HeartbeatReply(B, "hash", null, null, true));
        reply.Drains = new Wire.DrainReport { Modules = { new Wire.ModuleDrain { Module = "web", UdpFlows = ByteString.CopyFrom(flows) } } };

        var back = (HeartbeatReply)MessageMapper.ParseReply(MethodPaths.Heartbeat, reply.ToByteString(), Limits);

        CollectionAssert.AreEqual(flows, FlowKeyCodec.Encode(back.Drains!.Find("web")!.Flows));
    }

    [TestMethod]
    public void ParseReply_HeartbeatReplyWithMalformedDrains_FormatException()
    {
        var reply = (Wire.HeartbeatReply)MessageMapper.ToProto(new HeartbeatReply(B, "hash", null, null, true));
        reply.Drains = new Wire.DrainReport { Modules = { new Wire.ModuleDrain { Module = "db", DrainingRanges = { 5, 3 } } } };

        Assert.ThrowsExactly<FormatException>(() => MessageMapper.ParseReply(MethodPaths.Heartbeat, reply.ToByteString(), Limits));
    }

    [TestMethod]
    public void ParseRequest_PrepareWithMoreMembersThanTheCluster_FormatException()
    {
        MemberInfo[] members = [A, B, A with { Name = "c" }, A with { Name = "d" }];
        var request = new PrepareRequest(new ViewId(4, "a", 11), [.. members], null, [], 0, null);

        Assert.ThrowsExactly<FormatException>(() =>
            MessageMapper.ParseRequest(MethodPaths.Prepare, MessageMapper.ToProto(request).ToByteString(), Limits));
        Assert.AreEqual(4, ((PrepareRequest)MessageMapper.ParseRequest(
            MethodPaths.Prepare, MessageMapper.ToProto(request).ToByteString(), MessageLimits.Unconfigured)).Members.Length);
    }

    [TestMethod]
    public void ParseReply_ViewWithMoreMembersThanAnyCluster_FormatException()
    {
        var view = new Wire.View { Id = new Wire.ViewId { Epoch = 1, Coordinator = "a" }, Tables = new Wire.TableSet() };
        view.Members.AddRange(Enumerable.Range(0, ClusterConfigMaxNodes + 1).Select(i => new Wire.Member { Name = $"n{i}" }));

        Assert.ThrowsExactly<FormatException>(() =>
            MessageMapper.ParseReply(MethodPaths.GetView, new Wire.GetViewReply { View = view }.ToByteString()));
    }

    [TestMethod]
    public void ParseReply_StillHeardListLongerThanTheCluster_FormatException()
    {
        var reply = new PrepareReply(new ViewId(2, "a", 11), false, "still hears", false, [A, B, A with { Name = "c" }, A with { Name = "d" }]);

        Assert.ThrowsExactly<FormatException>(() =>
            MessageMapper.ParseReply(MethodPaths.Prepare, MessageMapper.ToProto(reply).ToByteString(), Limits));
    }

    [TestMethod]
    public void ParseRequest_SenderWithMoreReadyModulesThanMaxModules_FormatException()
    {
        var sender = A with { ReadyModules = [.. Enumerable.Range(0, MessageLimits.MaxModules + 1).Select(i => $"m{i:D3}")] };

        Assert.ThrowsExactly<FormatException>(() => MessageMapper.ParseRequest(
            MethodPaths.Heartbeat, MessageMapper.ToProto(new HeartbeatRequest(sender, "hash", null, null)).ToByteString(), Limits));
    }

    [TestMethod]
    public void ParseReply_TableSetWithMoreThanMaxModules_FormatException()
    {
        var view = new Wire.View { Id = new Wire.ViewId { Epoch = 1, Coordinator = "a" }, Tables = new Wire.TableSet() };
        view.Tables.Tables.AddRange(Enumerable.Range(0, MessageLimits.MaxModules + 1).Select(i => new Wire.ModuleTable { Module = $"m{i}" }));

        Assert.ThrowsExactly<FormatException>(() =>
            MessageMapper.ParseReply(MethodPaths.GetView, new Wire.GetViewReply { View = view }.ToByteString(), Limits));
    }

    [TestMethod]
    public void Member_WithDefinitions_RoundTripsHashShapeAndSettings()
    {
        var member = A with
        {
            Definitions =
            [
                new ModuleDefinition("db", "d1", 512, BucketMode.Single, true, ["seed=1"]),
                new ModuleDefinition("web", "w1", 256, BucketMode.Balance, false, ["seed=2", "buckets=256"]),
            ],
        };

        var back = MessageMapper.FromProto(MessageMapper.ToProto(member));

        Assert.AreEqual(member, back);
        Assert.AreEqual(new ModuleDefinition("db", "d1", 512, BucketMode.Single, true, []), back.DefinitionOf("db"));
        CollectionAssert.AreEqual(new[] { "seed=2", "buckets=256" }, back.DefinitionOf("web")!.Settings.ToArray());
    }

    [TestMethod]
    public void Member_FromANodeWithoutDefinitions_ParsesWithNone()
    {
        // What a node that predates module agreement sends: the field is absent.
        var wire = MessageMapper.ToProto(A);
        wire.Definitions.Clear();

        Assert.IsTrue(MessageMapper.FromProto(wire).Definitions.IsEmpty);
    }

    [TestMethod]
    public void Member_DefinitionWithBucketCountOutOfRange_FormatException()
    {
        var wire = MessageMapper.ToProto(A);
        wire.Definitions.Add(new Wire.ModuleDefinition { Module = "web", Hash = "w1", Buckets = 1 << 20 });

        Assert.ThrowsExactly<FormatException>(() => MessageMapper.FromProto(wire));
    }

    [TestMethod]
    public void For_Options_MembersFromClusterAndBucketCountsFromModules()
    {
        Assert.AreEqual(3, Limits.MaxMembers);
        Assert.AreEqual(256, Limits.BucketCounts!["web"]);
        Assert.AreEqual(512, Limits.BucketCounts["db"]);
        Assert.IsNull(MessageLimits.Unconfigured.BucketCounts);
    }

    private const int ClusterConfigMaxNodes = Farm.Core.Config.ClusterConfig.MaxNodes;

    private static ByteString HeartbeatWithDrains(params Wire.ModuleDrain[] parts)
    {
        var message = (Wire.HeartbeatRequest)MessageMapper.ToProto(new HeartbeatRequest(A, "hash", null, null));
        message.Drains = new Wire.DrainReport();
        message.Drains.Modules.AddRange(parts);
        return message.ToByteString();
    }

    private static MembershipMessage RoundTripRequest(MembershipMessage request) =>
        MessageMapper.ParseRequest(MessageMapper.MethodOf(request), MessageMapper.ToProto(request).ToByteString());

    private static MembershipMessage RoundTripReply(string method, MembershipMessage reply) =>
        MessageMapper.ParseReply(method, MessageMapper.ToProto(reply).ToByteString());
}

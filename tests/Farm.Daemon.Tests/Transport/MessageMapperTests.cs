using System.Collections.Immutable;
using Farm.Cluster.Membership;
using Farm.Core.Buckets;
using Farm.Daemon.Transport;
using Farm.Protocol;
using Google.Protobuf;
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
            new ModuleDrainReport("web", [1, 2, 3, 7, 100, 101], new byte[] { 4, 198, 18, 1, 1, 0x0f, 0xa0 }, 4, TimeSpan.FromMilliseconds(1500)),
            new ModuleDrainReport("db", [], ReadOnlyMemory<byte>.Empty, 12, null),
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

    private static MembershipMessage RoundTripRequest(MembershipMessage request) =>
        MessageMapper.ParseRequest(MessageMapper.MethodOf(request), MessageMapper.ToProto(request).ToByteString());

    private static MembershipMessage RoundTripReply(string method, MembershipMessage reply) =>
        MessageMapper.ParseReply(method, MessageMapper.ToProto(reply).ToByteString());
}

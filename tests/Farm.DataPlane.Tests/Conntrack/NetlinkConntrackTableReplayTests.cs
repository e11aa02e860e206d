using System.Net;
using Farm.DataPlane.Conntrack;
using Farm.DataPlane.Tests.TestSupport;
using Farm.Native.Linux;
using static Farm.DataPlane.Tests.Conntrack.NetlinkMessages;

namespace Farm.DataPlane.Tests.Conntrack;

/// <summary><see cref="NetlinkConntrackTable"/>'s dump protocol against scripted kernel replies.</summary>
[TestClass]
public sealed class NetlinkConntrackTableReplayTests : IDisposable
{
    private const int ENoBufs = 105;
    private const int EAgain = 11;
    private const byte Established = 3;

    private static readonly IPAddress Client = IPAddress.Parse("198.18.1.1");
    private static readonly IPAddress Vip = IPAddress.Parse("198.18.0.100");

    private readonly ScriptedNetlinkChannel channel = new();
    private readonly RecordingLoggerFactory logs = new();

    [TestMethod]
    public void Dump_ReplyInSeveralDatagrams_OneRequestAndEveryEntryInOrder()
    {
        channel.Reply(seq => Concat(Tcp(seq, 1), Tcp(seq, 2)))
            .Reply(seq => Tcp(seq, 3))
            .Reply(seq => Concat(Tcp(seq, 4), Done(seq)));
        using var table = Table();

        var flows = table.Dump();

        CollectionAssert.AreEqual(new[] { 1, 2, 3, 4 }, flows.Select(f => f.SourcePort).ToArray());
        Assert.HasCount(1, channel.Requests);
        Assert.AreEqual(0x0101, BitConverter.ToUInt16(channel.Requests[0], 4), "a ctnetlink CT_GET");
        Assert.IsEmpty(logs.Problems);
    }

    [TestMethod]
    public void Dump_Twice_FreshListWithNewSequence()
    {
        channel.Reply(seq => Concat(Tcp(seq, 1), Done(seq))).Reply(seq => Concat(Tcp(seq, 2), Done(seq)));
        using var table = Table();

        var first = table.Dump();
        var second = table.Dump();

        Assert.AreEqual(1, first.Single().SourcePort);
        Assert.AreEqual(2, second.Single().SourcePort);
        Assert.AreNotEqual(BitConverter.ToUInt32(channel.Requests[0], 8), BitConverter.ToUInt32(channel.Requests[1], 8));
    }

    [TestMethod]
    public void Dump_RepliesDroppedOnce_ReadsToTheEndAndRepeats()
    {
        channel.Reply(seq => Tcp(seq, 1))
            .Fail(new NetlinkException("recv", ENoBufs))
            .Reply(seq => Concat(Tcp(seq, 3), Done(seq)))
            .Reply(seq => Concat(Tcp(seq, 1), Tcp(seq, 2), Tcp(seq, 3), Done(seq)));
        using var table = Table();

        var flows = table.Dump();

        CollectionAssert.AreEqual(new[] { 1, 2, 3 }, flows.Select(f => f.SourcePort).ToArray());
        Assert.HasCount(2, channel.Requests);
    }

    [TestMethod]
    public void Dump_RepliesDroppedTwice_ThrowsRatherThanReturningHoles()
    {
        channel.Fail(new NetlinkException("recv", ENoBufs)).Reply(seq => Done(seq))
            .Fail(new NetlinkException("recv", ENoBufs)).Reply(seq => Done(seq));
        using var table = Table();

        var e = Assert.ThrowsExactly<NetlinkException>(() => table.Dump());

        Assert.AreEqual(ENoBufs, e.Errno);
        StringAssert.Contains(e.Message, "incomplete twice");
    }

    [TestMethod]
    public void Dump_KernelFlagsDumpInterrupted_RepeatsOnce()
    {
        channel.Reply(seq =>
            {
                byte[] entry = Tcp(seq, 1);
                entry[6] |= 0x10; // NLM_F_DUMP_INTR
                return Concat(entry, Done(seq));
            })
            .Reply(seq => Concat(Tcp(seq, 1), Tcp(seq, 2), Done(seq)));
        using var table = Table();

        var flows = table.Dump();

        Assert.HasCount(2, flows);
        Assert.HasCount(2, channel.Requests);
    }

    [TestMethod]
    public void Dump_KernelError_ThrowsAndTheNextDumpStartsAtOnce()
    {
        channel.Reply(seq => Error(seq, 1)).Reply(seq => Concat(Tcp(seq, 1), Done(seq)));
        using var table = Table();

        var e = Assert.ThrowsExactly<NetlinkException>(() => table.Dump());
        var flows = table.Dump();

        Assert.AreEqual(1, e.Errno);
        Assert.AreEqual(1, flows.Single().SourcePort);
        Assert.AreEqual(0, channel.PendingReplies);
    }

    [TestMethod]
    public void Dump_AfterATimeoutMidway_FirstReadsTheRestOfTheAbandonedDump()
    {
        channel.Reply(seq => Tcp(seq, 1))
            .Fail(new NetlinkException("no answer", EAgain))
            // The kernel resumes the abandoned dump (sequence 1) when read again...
            .Reply(_ => Tcp(1, 2))
            .Reply(_ => Concat(Tcp(1, 3), Done(1)))
            // ...and only then answers the new request.
            .Reply(seq => Concat(Tcp(seq, 7), Done(seq)));
        using var table = Table();

        Assert.ThrowsExactly<NetlinkException>(() => table.Dump());
        var flows = table.Dump();

        Assert.AreEqual(7, flows.Single().SourcePort);
        Assert.AreEqual(0, channel.PendingReplies);
    }

    [TestMethod]
    public void Dump_ReplyLargerThanTheBuffer_ThrowsInvalidData()
    {
        channel.Reply(_ => new byte[NetlinkConntrackTable.ReceiveBufferSize + 4]);
        using var table = Table();

        Assert.ThrowsExactly<InvalidDataException>(() => table.Dump());
    }

    [TestMethod]
    public void Dispose_ClosesTheChannelAndLaterDumpsThrow()
    {
        var table = Table();

        table.Dispose();

        Assert.IsTrue(channel.Disposed);
        Assert.ThrowsExactly<ObjectDisposedException>(() => table.Dump());
    }

    public void Dispose() => channel.Dispose();

    private NetlinkConntrackTable Table() => new(logs.CreateLogger<NetlinkConntrackTable>(), channel);

    private static byte[] Tcp(uint seq, int sourcePort) => Entry(seq, NetlinkMessages.Tcp, Client, sourcePort, Vip, 8080, Established);
}

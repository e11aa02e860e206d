using Farm.Native.Linux;
using static Farm.DataPlane.Tests.Conntrack.NetlinkMessages;

namespace Farm.DataPlane.Tests.Conntrack;

/// <summary><see cref="NetlinkConntrackTable"/>'s dump and lookup protocols against scripted kernel replies.</summary>
[TestClass]
public sealed class NetlinkConntrackTableReplayTests : IDisposable
{
    private const int ENoBufs = 105;
    private const int EAgain = 11;
    private const int ENoEnt = 2;
    private const int EPerm = 1;

    private readonly ScriptedNetlinkChannel channel = new();
    private readonly TestLogSink logs = new();

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
        logs.AssertNoWarnings();
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

    [TestMethod]
    public void Lookup_FoundAndGone_OneDatagramOfRequestsAndAnswersInRequestOrder()
    {
        var asked = new[] { Flow(1), Flow(2), Flow(3) };
        // The kernel answers each request with a datagram of its own; the order of arrival does not matter.
        channel.Reply(seq => Entry(seq + 2, NetlinkMessages.Tcp, Client4, 3, Vip4, 8080, TimeWait))
            .Reply(seq => Error(seq + 1, ENoEnt))
            .Reply(seq => Tcp(seq, 1));
        using var table = Table();

        var found = table.Lookup(asked);

        Assert.HasCount(1, channel.Requests, "one send for the batch");
        var messages = Messages(channel.Requests[0]);
        Assert.HasCount(3, messages);
        var sequences = messages.Select(SequenceOf).ToArray();
        CollectionAssert.AreEqual(new[] { sequences[0], sequences[0] + 1, sequences[0] + 2 }, sequences, "distinct, consecutive sequence numbers");
        Assert.IsTrue(messages.All(m => BitConverter.ToUInt16(m, 4) == 0x0101 && BitConverter.ToUInt16(m, 6) == 0x0001), "CT_GET with NLM_F_REQUEST only");
        CollectionAssert.AreEqual(asked, messages.Select(m => CtnetlinkParser.ParseEntry(m)!.Value).ToArray(), "each request names its flow's tuple");
        Assert.HasCount(3, found);
        Assert.AreEqual(Flow(1), found[0]);
        Assert.IsNull(found[1]);
        Assert.AreEqual(Flow(3) with { Live = false }, found[2]);
        Assert.AreEqual(0, channel.PendingReplies);
        logs.AssertNoWarnings();
    }

    [TestMethod]
    public void Lookup_MoreFlowsThanABatch_OneDatagramPerBatchOfAtMostBatchSize()
    {
        int total = (2 * NetlinkConntrackTable.LookupBatchSize) + 50;
        var asked = Enumerable.Range(1, total).Select(Flow).ToArray();
        for (int b = 0; b < 3; b++)
        {
            // Every lookup of the batch is answered with ENOENT, except the first, found.
            channel.Reply(seq => Concat([Tcp(seq, 0), .. Enumerable.Range(1, NetlinkConntrackTable.LookupBatchSize - 1).Select(k => Error(seq + (uint)k, ENoEnt))]));
        }

        using var table = Table();

        var found = table.Lookup(asked);

        CollectionAssert.AreEqual(new[] { NetlinkConntrackTable.LookupBatchSize, NetlinkConntrackTable.LookupBatchSize, 50 }, channel.Requests.Select(r => Messages(r).Count).ToArray());
        Assert.HasCount(total, found);
        Assert.AreEqual(3, found.Count(f => f is not null));
        Assert.IsNotNull(found[0]);
        Assert.IsNotNull(found[NetlinkConntrackTable.LookupBatchSize]);
        Assert.IsNotNull(found[2 * NetlinkConntrackTable.LookupBatchSize]);
        var allSequences = channel.Requests.SelectMany(r => Messages(r).Select(SequenceOf)).ToArray();
        Assert.HasCount(total, allSequences.Distinct());
    }

    [TestMethod]
    public void Lookup_SmallReceiveBuffer_BatchesShrinkSoTheirAnswersFitIt()
    {
        channel.ReceiveBufferSize = 10 * NetlinkConntrackTable.AnswerBudget;
        var asked = Enumerable.Range(1, 25).Select(Flow).ToArray();
        foreach (int size in new[] { 10, 10, 5 })
        {
            channel.Reply(seq => Concat([.. Enumerable.Range(0, size).Select(k => Error(seq + (uint)k, ENoEnt))]));
        }

        using var table = Table();

        var found = table.Lookup(asked);

        Assert.AreEqual(10, table.BatchSize);
        CollectionAssert.AreEqual(new[] { 10, 10, 5 }, channel.Requests.Select(r => Messages(r).Count).ToArray());
        Assert.IsTrue(found.All(f => f is null));
    }

    [TestMethod]
    public void Lookup_AnswersDropped_ReadsWhatIsQueuedThenAsksAgainForTheRestInSmallerDatagrams()
    {
        var asked = new[] { Flow(1), Flow(2), Flow(3), Flow(4), Flow(5) };
        channel.Reply(seq => Tcp(seq, 1))
            .Fail(new NetlinkException("recv", ENoBufs))
            .Reply(seq => Error(seq + 2, ENoEnt)) // still queued after the overflow
            .Empty()
            // Two of five got through: from now on, one lookup to a datagram.
            .Reply(seq => Tcp(seq, 2))
            .Reply(seq => Tcp(seq, 4))
            .Reply(seq => Error(seq, ENoEnt));
        using var table = Table();

        var found = table.Lookup(asked);

        CollectionAssert.AreEqual(new[] { 5, 1, 1, 1 }, channel.Requests.Select(r => Messages(r).Count).ToArray());
        CollectionAssert.AreEqual(new[] { Flow(2), Flow(4), Flow(5) }, channel.Requests.Skip(1).Select(r => CtnetlinkParser.ParseEntry(r)!.Value).ToArray());
        Assert.IsGreaterThan(SequenceOf(Messages(channel.Requests[0])[^1]), SequenceOf(channel.Requests[1]), "the repeat has fresh sequence numbers");
        CollectionAssert.AreEqual(new TrackedFlow?[] { Flow(1), Flow(2), null, Flow(4), null }, found.ToArray());
        Assert.AreEqual(1, table.BatchSize, "the smaller batches stay");
        Assert.AreEqual(0, channel.PendingReplies);
        Assert.IsTrue(logs.Messages.Any(e => e.Contains("2 of 5 got through")), string.Join('\n', logs.Entries));
    }

    [TestMethod]
    public void Lookup_NoAnswerGetsThrough_ThrowsRatherThanGuessing()
    {
        channel.Fail(new NetlinkException("recv", ENoBufs)).Empty();
        using var table = Table();

        var e = Assert.ThrowsExactly<NetlinkException>(() => table.Lookup([Flow(1), Flow(2)]));

        Assert.AreEqual(ENoBufs, e.Errno);
        StringAssert.Contains(e.Message, "dropped every answer");
    }

    [TestMethod]
    public void Lookup_KernelRefuses_ThrowsAndTheNextCallFirstDropsTheLeftovers()
    {
        channel.Reply(seq => Error(seq, EPerm))
            .Reply(_ => Error(999, ENoEnt)).Empty() // a leftover answer, dropped before the next request
            .Reply(seq => Tcp(seq, 1));
        using var table = Table();

        var e = Assert.ThrowsExactly<NetlinkException>(() => table.Lookup([Flow(1), Flow(2)]));
        var found = table.Lookup([Flow(1)]);

        Assert.AreEqual(EPerm, e.Errno);
        Assert.AreEqual(Flow(1), found.Single());
        Assert.AreEqual(0, channel.PendingReplies);
    }

    [TestMethod]
    public void Lookup_LateAnswersOfAnEarlierBatch_Ignored()
    {
        channel.Reply(seq => Concat(Tcp(seq - 5, 9), Error(seq - 4, ENoEnt)))
            .Reply(seq => Error(seq, ENoEnt));
        using var table = Table();

        var found = table.Lookup([Flow(1)]);

        Assert.IsNull(found.Single());
    }

    [TestMethod]
    public void Lookup_NoAnswerWithinTheTimeout_Throws()
    {
        channel.Empty();
        using var table = Table();

        var e = Assert.ThrowsExactly<NetlinkException>(() => table.Lookup([Flow(1)]));

        Assert.AreEqual(EAgain, e.Errno);
    }

    [TestMethod]
    public void Lookup_AfterADumpAbandonedMidway_FirstReadsTheDumpToItsEnd()
    {
        channel.Reply(seq => Tcp(seq, 1))
            .Fail(new NetlinkException("no answer", EAgain))
            .Reply(_ => Concat(Tcp(1, 2), Done(1)))
            .Reply(seq => Tcp(seq, 5));
        using var table = Table();

        Assert.ThrowsExactly<NetlinkException>(() => table.Dump());
        var found = table.Lookup([Flow(5)]);

        Assert.AreEqual(Flow(5), found.Single());
        Assert.AreEqual(0, channel.PendingReplies);
    }

    [TestMethod]
    public void Lookup_NoFlows_EmptyAndNothingSent()
    {
        using var table = Table();

        var found = table.Lookup([]);

        Assert.IsEmpty(found);
        Assert.IsEmpty(channel.Requests);
    }

    [TestMethod]
    public void Lookup_UnfitFlow_ThrowsArgumentBeforeSendingAnything()
    {
        using var table = Table();
        var mixed = Flow(2) with { Destination = IPAddress.Parse("2001:db8::100") };

        var e = Assert.ThrowsExactly<ArgumentException>(() => table.Lookup([Flow(1), mixed]));

        StringAssert.Contains(e.Message, "Flow 1");
        Assert.IsEmpty(channel.Requests);
    }

    [TestMethod]
    public void Lookup_AfterDispose_ThrowsObjectDisposed()
    {
        var table = Table();
        table.Dispose();

        Assert.ThrowsExactly<ObjectDisposedException>(() => table.Lookup([Flow(1)]));
    }

    public void Dispose() => channel.Dispose();

    [TestMethod]
    public void Delete_DeletedAndGone_OneDatagramOfCtDeletesAndTheDeletedFlowsInRequestOrder()
    {
        var asked = new[] { Flow(1), Flow(2), Flow(3) };
        channel.Reply(seq => Error(seq + 1, ENoEnt))
            .Reply(seq => Error(seq + 2, 0))
            .Reply(seq => Error(seq, 0));
        using var table = Table();

        var deleted = table.Delete(asked);

        Assert.HasCount(1, channel.Requests, "one send for the batch");
        var messages = Messages(channel.Requests[0]);
        Assert.IsTrue(messages.All(m => BitConverter.ToUInt16(m, 4) == 0x0102 && BitConverter.ToUInt16(m, 6) == 0x0005), "CT_DELETE with NLM_F_REQUEST | NLM_F_ACK");
        CollectionAssert.AreEqual(asked, messages.Select(m => CtnetlinkParser.ParseEntry(m)!.Value).ToArray(), "each request names its flow's tuple");
        CollectionAssert.AreEqual(new TrackedFlow?[] { Flow(1), null, Flow(3) }, deleted.ToArray());
        Assert.AreEqual(0, channel.PendingReplies);
        logs.AssertNoWarnings();
    }

    [TestMethod]
    public void Delete_KernelRefuses_ThrowsWithItsErrno()
    {
        channel.Reply(seq => Error(seq, EPerm));
        using var table = Table();

        var e = Assert.ThrowsExactly<NetlinkException>(() => table.Delete([Flow(1)]));

        Assert.AreEqual(EPerm, e.Errno);
        StringAssert.Contains(e.Message, "delete");
    }

    [TestMethod]
    public void Delete_AnsweredWithAnEntry_ThrowsInvalidData()
    {
        channel.Reply(seq => Tcp(seq, 1));
        using var table = Table();

        Assert.ThrowsExactly<InvalidDataException>(() => table.Delete([Flow(1)]));
    }

    private NetlinkConntrackTable Table() => new(logs.CreateLogger<NetlinkConntrackTable>(), channel);

    private static byte[] Tcp(uint seq, int sourcePort) => Entry(seq, NetlinkMessages.Tcp, Client4, sourcePort, Vip4, 8080, Established);

    private static TrackedFlow Flow(int sourcePort) => new(Farm.Core.Config.TransportProtocol.Tcp, Client4, sourcePort, Vip4, 8080, Live: true);
}

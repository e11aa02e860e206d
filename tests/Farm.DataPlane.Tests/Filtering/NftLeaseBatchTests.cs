using System.Buffers.Binary;
using System.Net;
using Farm.DataPlane.Conntrack;
using Farm.Native.Linux;

namespace Farm.DataPlane.Tests.Filtering;

[TestClass]
public sealed class NftLeaseBatchTests
{
    private static readonly NftLeaseBatch.Refresh Refresh = new(
        "farm_web", [new NftLeaseBatch.Element("lease4", IPAddress.Parse("198.18.0.100")), new NftLeaseBatch.Element("lease6", IPAddress.Parse("2001:db8::100"))], 600);

    [TestMethod]
    public void Build_TwoVips_SixElementMessagesBetweenBeginAndEndAndTheLastAsksForTheAck()
    {
        var (datagram, last) = Refresh.Build(100);

        var messages = Messages(datagram);
        CollectionAssert.AreEqual(new uint[] { 100, 101, 102, 103, 104, 105, 106, 107 }, messages.Select(m => m.Sequence).ToArray());
        CollectionAssert.AreEqual(new ushort[] { 0x10, 0x0a0c, 0x0a0e, 0x0a0c, 0x0a0c, 0x0a0e, 0x0a0c, 0x11 }, messages.Select(m => m.Type).ToArray());
        Assert.AreEqual(106u, last);
        CollectionAssert.AreEqual(new[] { 106u }, messages.Where(m => (m.Flags & CtnetlinkParser.NlmFAck) != 0).Select(m => m.Sequence).ToArray());
        Assert.AreEqual(Refresh.Text, """
            add element inet farm_web lease4 { 198.18.0.100 }
            delete element inet farm_web lease4 { 198.18.0.100 }
            add element inet farm_web lease4 { 198.18.0.100 timeout 600ms }
            add element inet farm_web lease6 { 2001:db8::100 }
            delete element inet farm_web lease6 { 2001:db8::100 }
            add element inet farm_web lease6 { 2001:db8::100 timeout 600ms }

            """.ReplaceLineEndings("\n"));
    }

    [TestMethod]
    public void ReadReplies_AnOlderBatchsAckThenTheLastOnesAck_Returns()
    {
        var replies = new Queue<byte[]>([Error(7, 0), [.. Error(99, 0), .. Error(106, 0)]]);

        NftNetlinkBatch.ReadReplies(new byte[NftNetlinkBatch.ReplyBufferSize], buffer => Copy(replies.Dequeue(), buffer), 100, 106);

        Assert.AreEqual(0, replies.Count);
    }

    [TestMethod]
    public void ReadReplies_ErrorForAnElement_ThrowsWithItsErrno()
    {
        var replies = new Queue<byte[]>([[.. Error(103, -2), .. Error(106, 0)]]);

        var e = Assert.ThrowsExactly<NftablesException>(() => NftNetlinkBatch.ReadReplies(new byte[NftNetlinkBatch.ReplyBufferSize], buffer => Copy(replies.Dequeue(), buffer), 100, 106));

        StringAssert.Contains(e.Message, "errno 2");
    }

    private static int Copy(byte[] datagram, byte[] buffer)
    {
        datagram.CopyTo(buffer, 0);
        return datagram.Length;
    }

    private static byte[] Error(uint sequence, int errno)
    {
        byte[] message = new byte[36];
        CtnetlinkParser.WriteHeader(message, 36, CtnetlinkParser.NlmsgError, 0, sequence);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(16), errno);
        CtnetlinkParser.WriteHeader(message.AsSpan(20), 16, 0x0a0c, 0, sequence);
        return message;
    }

    private static List<(uint Sequence, ushort Type, ushort Flags)> Messages(byte[] datagram)
    {
        var list = new List<(uint, ushort, ushort)>();
        for (int offset = 0; offset < datagram.Length;)
        {
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(datagram.AsSpan(offset));
            list.Add((BinaryPrimitives.ReadUInt32LittleEndian(datagram.AsSpan(offset + 8)), BinaryPrimitives.ReadUInt16LittleEndian(datagram.AsSpan(offset + 4)), BinaryPrimitives.ReadUInt16LittleEndian(datagram.AsSpan(offset + 6))));
            offset += (int)length;
        }

        return list;
    }
}

using System.Buffers;
using Farm.Rpc.Protocol;
using Farm.Rpc.Tests.Interop;

namespace Farm.Rpc.Tests.Protocol;

[TestClass]
public sealed class MessageFramingTests
{
    [TestMethod]
    public void Frame_Message_WritesFlagBigEndianLengthAndBody()
    {
        var message = new EchoReply { Text = "hi" };

        byte[] frame = MessageFraming.Frame(message, maxSize: null);

        CollectionAssert.AreEqual(new byte[] { 0, 0, 0, 0, 4, 0x0A, 2, (byte)'h', (byte)'i' }, frame);
    }

    [TestMethod]
    public void Frame_MessageOverLimit_ThrowsResourceExhausted()
    {
        var message = new EchoReply { Text = new string('x', 100) };

        var ex = Assert.ThrowsExactly<RpcException>(() => MessageFraming.Frame(message, maxSize: 10));

        Assert.AreEqual(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [TestMethod]
    public void TryRead_TwoFramesAndAPartialOne_ReadsTwoThenWaits()
    {
        byte[] one = MessageFraming.Frame(new EchoReply { Index = 1 }, null);
        byte[] two = MessageFraming.Frame(new EchoReply { Index = 2 }, null);
        var buffer = new ReadOnlySequence<byte>([.. one, .. two, 0, 0, 0]);

        Assert.IsTrue(MessageFraming.TryRead(ref buffer, 1024, null, out var first));
        Assert.IsTrue(MessageFraming.TryRead(ref buffer, 1024, null, out var second));
        Assert.IsFalse(MessageFraming.TryRead(ref buffer, 1024, null, out _));

        Assert.AreEqual(1, EchoReply.Parser.ParseFrom(first).Index);
        Assert.AreEqual(2, EchoReply.Parser.ParseFrom(second).Index);
        Assert.AreEqual(3, buffer.Length);
    }

    [TestMethod]
    public void TryRead_PrefixAnnouncesOversizedMessage_ThrowsBeforeBodyArrives()
    {
        var buffer = new ReadOnlySequence<byte>([0, 0, 0x10, 0, 0]); // 1 MiB announced, no body yet

        var ex = Assert.ThrowsExactly<RpcException>(() => MessageFraming.TryRead(ref buffer, 1024, null, out _));

        Assert.AreEqual(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [TestMethod]
    [DataRow(null, StatusCode.Internal)]
    [DataRow("identity", StatusCode.Internal)]
    [DataRow("gzip", StatusCode.Unimplemented)]
    public void TryRead_CompressedFlag_ThrowsWithClearStatus(string? encoding, StatusCode expected)
    {
        var buffer = new ReadOnlySequence<byte>([1, 0, 0, 0, 1, 0]);

        var ex = Assert.ThrowsExactly<RpcException>(() => MessageFraming.TryRead(ref buffer, 1024, encoding, out _));

        Assert.AreEqual(expected, ex.StatusCode);
        StringAssert.Contains(ex.Detail, "ompress");
    }

    [TestMethod]
    public void TryRead_InvalidFlag_ThrowsInternal()
    {
        var buffer = new ReadOnlySequence<byte>([7, 0, 0, 0, 0]);

        var ex = Assert.ThrowsExactly<RpcException>(() => MessageFraming.TryRead(ref buffer, 1024, null, out _));

        Assert.AreEqual(StatusCode.Internal, ex.StatusCode);
    }
}

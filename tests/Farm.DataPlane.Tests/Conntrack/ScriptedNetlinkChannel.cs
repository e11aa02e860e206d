using System.Buffers.Binary;
using Farm.DataPlane.Conntrack;

namespace Farm.DataPlane.Tests.Conntrack;

/// <summary>
/// A netlink channel that records requests and plays back scripted replies: each step either builds a datagram for
/// the sequence number of the latest request, or throws.
/// </summary>
internal sealed class ScriptedNetlinkChannel : INetlinkChannel
{
    private readonly Queue<Func<uint, byte[]>> replies = new();

    public List<byte[]> Requests { get; } = [];

    public bool Disposed { get; private set; }

    /// <summary>The nlmsg_seq of the latest request (0 before any).</summary>
    public uint LastSequence => Requests.Count == 0 ? 0 : BinaryPrimitives.ReadUInt32LittleEndian(Requests[^1].AsSpan(8));

    public ScriptedNetlinkChannel Reply(Func<uint, byte[]> datagram)
    {
        replies.Enqueue(datagram);
        return this;
    }

    public ScriptedNetlinkChannel Fail(Exception exception) => Reply(_ => throw exception);

    public int PendingReplies => replies.Count;

    public void Send(ReadOnlySpan<byte> datagram) => Requests.Add(datagram.ToArray());

    public int Receive(Span<byte> buffer)
    {
        if (!replies.TryDequeue(out var next))
        {
            throw new InvalidOperationException("The table received more often than the script foresaw.");
        }

        byte[] datagram = next(LastSequence);
        datagram.AsSpan(0, Math.Min(datagram.Length, buffer.Length)).CopyTo(buffer);
        return datagram.Length;
    }

    public void Dispose() => Disposed = true;
}

using Farm.Native.Linux;

namespace Farm.DataPlane.Tests.Conntrack;

/// <summary>
/// A netlink channel that records requests and plays back scripted replies: each step either builds a datagram for
/// the sequence number of the latest request (the first one of its messages), throws, or stands for an empty receive
/// queue (<see cref="Empty"/>).
/// </summary>
internal sealed class ScriptedNetlinkChannel : INetlinkChannel
{
    private const int EAgain = 11;

    private readonly Queue<Func<uint, byte[]?>> replies = new();

    public List<byte[]> Requests { get; } = [];

    /// <summary>As a socket granted its 1 MiB; set it smaller to see the table shrink its lookup batches.</summary>
    public int ReceiveBufferSize { get; set; } = 1 << 20;

    public bool Disposed { get; private set; }

    /// <summary>The nlmsg_seq of the latest request (0 before any).</summary>
    public uint LastSequence => Requests.Count == 0 ? 0 : BinaryPrimitives.ReadUInt32LittleEndian(Requests[^1].AsSpan(8));

    public ScriptedNetlinkChannel Reply(Func<uint, byte[]> datagram)
    {
        replies.Enqueue(datagram);
        return this;
    }

    public ScriptedNetlinkChannel Fail(Exception exception) => Reply(_ => throw exception);

    /// <summary>The receive queue is empty here: <see cref="TryReceive"/> answers false, <see cref="Receive"/> times out (EAGAIN).</summary>
    public ScriptedNetlinkChannel Empty()
    {
        replies.Enqueue(_ => null);
        return this;
    }

    public int PendingReplies => replies.Count;

    public void Send(ReadOnlySpan<byte> datagram) => Requests.Add(datagram.ToArray());

    public int Receive(Span<byte> buffer)
    {
        if (!replies.TryDequeue(out var next))
        {
            throw new InvalidOperationException("The table received more often than the script foresaw.");
        }

        byte[] datagram = next(LastSequence) ?? throw new NetlinkException("No netlink answer (scripted).", EAgain);
        datagram.AsSpan(0, Math.Min(datagram.Length, buffer.Length)).CopyTo(buffer);
        return datagram.Length;
    }

    /// <summary>Plays the next step without waiting; an exhausted script, like <see cref="Empty"/>, is an empty queue.</summary>
    public bool TryReceive(Span<byte> buffer, out int length)
    {
        length = 0;
        if (!replies.TryDequeue(out var next) || next(LastSequence) is not { } datagram)
        {
            return false;
        }

        datagram.AsSpan(0, Math.Min(datagram.Length, buffer.Length)).CopyTo(buffer);
        length = datagram.Length;
        return true;
    }

    public void Dispose() => Disposed = true;
}

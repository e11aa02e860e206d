using System.Runtime.Versioning;
using Farm.Native.Linux;

namespace Farm.DataPlane.Filtering;

/// <summary>
/// <see cref="INftablesClient"/> on libnftables in-process (no <c>nft</c> process per update), and on batches of its own for
/// lease refreshes and bucket states (<see cref="Write"/>): one netlink round trip each, without libnftables' parse and cache.
/// </summary>
/// <remarks>Create it on a thread in the network namespace to program (the daemon: the host's; tests: a node's).</remarks>
[SupportedOSPlatform("linux")]
internal sealed class LibNftablesClient : INftablesClient
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(1);
    private readonly NftablesContext context = NftablesContext.Create();
    private readonly Lock gate = new();

    /// <summary>
    /// The largest batch <see cref="Write"/> sends itself: a netlink datagram must fit the socket's send buffer (208 KiB by
    /// default). A larger one (tens of thousands of bucket runs) goes through libnftables, which sizes the buffer.
    /// </summary>
    internal const int MaxDatagram = 128 * 1024;

    // Lease refreshes and bucket states go around libnftables (NftNetlinkBatch): opened here, so in the same network
    // namespace as the context.
    private readonly NetlinkSocket batches = NetlinkSocket.Open(NetlinkSocket.NetfilterProtocol, ReplyTimeout);
    private readonly byte[] replies = new byte[NftNetlinkBatch.ReplyBufferSize]; // under gate; 20 refreshes a second reuse it
    private readonly Func<byte[], int> receive;
    private uint sequence = (uint)Environment.TickCount;

    public LibNftablesClient() => receive = buffer => batches.Receive(buffer);

    /// <inheritdoc />
    public void Run(string batch)
    {
        lock (gate)
        {
            context.Run(batch, json: false);
        }
    }

    /// <inheritdoc />
    public void Write(INftSetBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (gate)
        {
            uint first = sequence;
            var (datagram, last) = batch.Build(first);
            sequence = last + 2; // past the batch's end message
            if (datagram.Length > MaxDatagram)
            {
                context.Run(batch.Text, json: false);
                return;
            }

            batches.Send(datagram);
            NftNetlinkBatch.ReadReplies(replies, receive, first, last);
        }
    }

    /// <inheritdoc />
    public void Check(string batch)
    {
        lock (gate)
        {
            context.Check(batch);
        }
    }

    /// <inheritdoc />
    public string List(string command, bool json = true)
    {
        lock (gate)
        {
            return context.Run(command, json);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        context.Dispose();
        batches.Dispose();
    }
}

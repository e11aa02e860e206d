using System.Runtime.Versioning;
using Farm.Native.Linux;

namespace Farm.DataPlane.Filtering;

/// <summary>
/// <see cref="INftablesClient"/> on libnftables in-process: no <c>nft</c> process per update, so bucket updates and
/// lease refreshes cost one netlink round trip.
/// </summary>
/// <remarks>Create it on a thread in the network namespace to program (the daemon: the host's; tests: a node's).</remarks>
[SupportedOSPlatform("linux")]
internal sealed class LibNftablesClient : INftablesClient
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(1);
    private readonly NftablesContext context = NftablesContext.Create();
    private readonly Lock gate = new();

    // Lease refreshes go around libnftables (NftLeaseBatch): opened here, so in the same network namespace as the context.
    private readonly NetlinkSocket lease = NetlinkSocket.Open(NetlinkSocket.NetfilterProtocol, ReplyTimeout);
    private readonly byte[] replies = new byte[NftLeaseBatch.ReplyBufferSize]; // under gate; 20 refreshes a second reuse it
    private readonly Func<byte[], int> receive;
    private uint sequence = (uint)Environment.TickCount;

    public LibNftablesClient() => receive = buffer => lease.Receive(buffer);

    /// <inheritdoc />
    public void Run(string batch)
    {
        lock (gate)
        {
            context.Run(batch, json: false);
        }
    }

    /// <inheritdoc />
    public void RefreshLease(NftLeaseBatch.Refresh refresh)
    {
        ArgumentNullException.ThrowIfNull(refresh);
        lock (gate)
        {
            uint first = sequence;
            var (datagram, last) = refresh.Build(first);
            sequence = last + 2; // past the batch's end message
            lease.Send(datagram);
            NftLeaseBatch.ReadReplies(replies, receive, first, last);
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
        lease.Dispose();
    }
}

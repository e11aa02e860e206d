using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Farm.Native.Linux;

namespace Farm.DataPlane.Neighbors;

/// <summary>
/// <see cref="IFrameChannel"/> on libpcap, plus memberships in the VIPs' solicited-node multicast groups so that a
/// NIC with a multicast filter passes the neighbor solicitations for them (the VIP lives on lo, so the kernel does
/// not join these groups on the VIP interface by itself).
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class PcapFrameChannel : IFrameChannel
{
    private readonly PcapDevice device;
    private readonly Socket? membership;

    private PcapFrameChannel(PcapDevice device, Socket? membership)
    {
        this.device = device;
        this.membership = membership;
    }

    /// <summary>Opens <paramref name="interfaceName"/> on the calling thread's network namespace.</summary>
    public static PcapFrameChannel Open(string interfaceName, IEnumerable<IPAddress> vips)
    {
        ArgumentNullException.ThrowIfNull(vips);
        var device = PcapDevice.Open(interfaceName, NeighborFrames.CaptureFilter);
        Socket? socket = null;
        try
        {
            var v6 = vips.Where(v => v.AddressFamily == AddressFamily.InterNetworkV6).ToList();
            if (v6.Count > 0)
            {
                uint index = LibC.IfNameToIndex(interfaceName);
                socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
                foreach (var group in v6.Select(NeighborFrames.SolicitedNodeGroup).Distinct())
                {
                    socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.AddMembership, new IPv6MulticastOption(group, index));
                }
            }

            return new PcapFrameChannel(device, socket);
        }
        catch
        {
            socket?.Dispose();
            device.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public int Receive(Span<byte> buffer) => device.Receive(buffer);

    /// <inheritdoc />
    public void Send(ReadOnlySpan<byte> frame) => device.Send(frame);

    /// <inheritdoc />
    public void Wake() => device.Wake();

    /// <inheritdoc />
    public void Dispose()
    {
        membership?.Dispose();
        device.Dispose();
    }
}

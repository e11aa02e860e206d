using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Farm.Native.Linux;
using PacketDotNet;
using SharpPcap;
using SharpPcap.LibPcap;

namespace Farm.DataPlane.Neighbors;

/// <summary>
/// <see cref="IFrameChannel"/> on SharpPcap (libpcap): a live capture of one Ethernet interface in immediate mode,
/// not promiscuous, with the BPF filter <see cref="NeighborFrames.CaptureFilter"/>; frames are sent with
/// <c>SendPacket</c>. Plus memberships in the VIPs' solicited-node multicast groups so that a NIC with a multicast
/// filter passes the neighbor solicitations for them (the VIP lives on lo, so the kernel does not join these groups on
/// the VIP interface by itself).
/// </summary>
/// <remarks>
/// Frames are pulled with <c>GetNextPacket</c> on the caller's thread (the responder's own), not pushed by
/// <c>StartCapture</c>: SharpPcap 6.3.1 runs that loop on a thread-pool thread and <c>StopCapture</c> stops waiting
/// for it after a timeout, so the loop could outlive the device; a thread we own is joined before the device closes.
/// SharpPcap polls the capture with a fixed 500 ms timeout and offers no wake-up for that poll, so a
/// <see cref="Wake"/> takes effect when the current poll ends: within <see cref="WakeLatency"/>.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class PcapFrameChannel : IFrameChannel
{
    /// <summary>
    /// Longest time a blocked <see cref="Receive"/> takes to notice <see cref="Wake"/>: SharpPcap's poll (500 ms) plus
    /// libpcap's read timeout (<see cref="ReadTimeoutMilliseconds"/>) when the poll was interrupted.
    /// </summary>
    public static readonly TimeSpan WakeLatency = TimeSpan.FromMilliseconds(500 + ReadTimeoutMilliseconds);

    private const int ReadTimeoutMilliseconds = 100;
    private const int SnapLength = 2048;

    private readonly LibPcapLiveDevice device;
    private readonly Socket? membership;
    private readonly Lock sendLock = new();
    private int woken;
    private bool closed;

    private PcapFrameChannel(LibPcapLiveDevice device, Socket? membership)
    {
        this.device = device;
        this.membership = membership;
    }

    /// <summary>The captured interface.</summary>
    public string InterfaceName => device.Name;

    /// <summary>Opens <paramref name="interfaceName"/> in the calling thread's network namespace.</summary>
    /// <exception cref="InvalidOperationException">libpcap does not know the interface, or it is not Ethernet.</exception>
    /// <exception cref="PcapException">The capture cannot be opened or the filter set.</exception>
    /// <exception cref="DllNotFoundException">libpcap is not installed (Debian package libpcap0.8).</exception>
    public static PcapFrameChannel Open(string interfaceName, IEnumerable<IPAddress> vips)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        ArgumentNullException.ThrowIfNull(vips);

        // By name from pcap_findalldevs on this thread: the packet socket is created in the thread's network namespace.
        var pcapInterface = PcapInterface.GetAllPcapInterfaces().FirstOrDefault(i => i.Name == interfaceName)
            ?? throw new InvalidOperationException($"libpcap has no interface {interfaceName}.");
        var device = new LibPcapLiveDevice(pcapInterface);
        Socket? socket = null;
        try
        {
            // Immediate mode: each frame is delivered at once instead of in blocks. No promiscuous mode: requests are
            // broadcast or multicast, and unicast ones to the vMAC (cache refreshes) pass because VipManager admits it.
            device.Open(new DeviceConfiguration { Mode = DeviceModes.None, Immediate = true, ReadTimeout = ReadTimeoutMilliseconds, Snaplen = SnapLength });
            if (device.LinkType != LinkLayers.Ethernet)
            {
                throw new InvalidOperationException($"{interfaceName} is not an Ethernet interface ({device.LinkType}).");
            }

            device.Filter = NeighborFrames.CaptureFilter;

            var v6 = vips.Where(v => v.AddressFamily == AddressFamily.InterNetworkV6).ToList();
            if (v6.Count > 0)
            {
                uint index = LibC.IfNameToIndex(interfaceName);
                socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
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
            device.Close();
            throw;
        }
    }

    /// <inheritdoc />
    /// <exception cref="IOException">The capture failed (e.g. the interface went away).</exception>
    public int Receive(Span<byte> buffer)
    {
        if (Volatile.Read(ref woken) != 0)
        {
            return -1;
        }

        var status = device.GetNextPacket(out var capture);
        switch (status)
        {
            case GetPacketStatus.PacketRead:
                int length = Math.Min(capture.Data.Length, buffer.Length);
                capture.Data[..length].CopyTo(buffer);
                return length;
            case GetPacketStatus.ReadTimeout:
                return Volatile.Read(ref woken) != 0 ? -1 : 0;
            case GetPacketStatus.NoRemainingPackets:
                return -1; // pcap_breakloop: only SharpPcap's StopCapture calls it, which this channel does not use
            default:
                throw new IOException($"Capturing on {device.Name} failed: {device.LastError}");
        }
    }

    /// <inheritdoc />
    public void Send(ReadOnlySpan<byte> frame)
    {
        // One sender at a time, and never during Dispose: after Close the handle is gone.
        lock (sendLock)
        {
            ObjectDisposedException.ThrowIf(closed, this);
            device.SendPacket(frame);
        }
    }

    /// <inheritdoc />
    public void Wake() => Interlocked.Exchange(ref woken, 1);

    /// <summary>Closes the capture (the packet socket) and leaves the multicast groups; call once no <see cref="Receive"/> runs.</summary>
    public void Dispose()
    {
        Wake();
        lock (sendLock)
        {
            if (closed)
            {
                return;
            }

            closed = true;
            membership?.Dispose();
            device.Close();
        }
    }
}

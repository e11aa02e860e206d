using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Farm.Core.Config;
using Farm.DataPlane.Addressing;
using Microsoft.Extensions.Logging;

namespace Farm.DataPlane.Neighbors;

/// <summary>
/// Answers ARP requests and IPv6 neighbor solicitations for a module's VIPs with their virtual MACs, and announces
/// them (gratuitous ARP, unsolicited NA) at start and periodically. Frames go out with the node's own MAC as
/// Ethernet source (see <see cref="NeighborFrames"/>).
/// </summary>
public sealed partial class NeighborResponder : IDisposable
{
    private static readonly PhysicalAddress AllNodesMac = NeighborFrames.MulticastMac(NeighborFrames.AllNodes);

    /// <summary>How long <see cref="Dispose"/> waits for the receive thread (the pcap channel needs at most ~0.6 s).</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    private readonly IFrameChannel channel;
    private readonly PhysicalAddress nodeMac;
    private readonly Dictionary<IPAddress, PhysicalAddress> vmacs;
    private readonly byte[][] announcementFrames;
    private readonly TimeSpan interval;
    private readonly TimeProvider timeProvider;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock gate = new();
    private ITimer? timer;
    private Thread? receiver;
    private long replies;
    private long announcements;
    private int disposed;

    internal NeighborResponder(IFrameChannel channel, PhysicalAddress nodeMac, IEnumerable<IPAddress> vips, TimeSpan interval, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(nodeMac);
        ArgumentNullException.ThrowIfNull(vips);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        this.channel = channel;
        this.nodeMac = nodeMac;
        vmacs = vips.Distinct().ToDictionary(v => v, VirtualMac.For);

        // The same frames every time: built once.
        announcementFrames = [.. vmacs.Select(pair => pair.Key.AddressFamily == AddressFamily.InterNetwork
            ? NeighborFrames.GratuitousArp(nodeMac, pair.Value, pair.Key)
            : NeighborFrames.NeighborAdvertisement(nodeMac, pair.Value, pair.Key, AllNodesMac, NeighborFrames.AllNodes, solicited: false))];
        this.interval = interval;
        this.timeProvider = timeProvider;
        this.logger = logger;
    }

    /// <summary>Replies sent to ARP requests and neighbor solicitations.</summary>
    public long Replies => Interlocked.Read(ref replies);

    /// <summary>Gratuitous ARPs and unsolicited advertisements sent.</summary>
    public long Announcements => Interlocked.Read(ref announcements);

    /// <summary>
    /// Opens a responder on the module's interface (SharpPcap on libpcap), in the network namespace of the calling thread. Call
    /// <see cref="Start"/> to begin answering.
    /// </summary>
    /// <exception cref="InvalidOperationException">The interface does not exist or has no Ethernet address.</exception>
    [SupportedOSPlatform("linux")]
    public static NeighborResponder Open(ModuleConfig module, TimeProvider timeProvider, ILogger<NeighborResponder> logger)
    {
        ArgumentNullException.ThrowIfNull(module);
        var nic = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == module.Interface)
            ?? throw new InvalidOperationException($"Interface {module.Interface} does not exist.");
        var mac = nic.GetPhysicalAddress();
        if (mac.GetAddressBytes().Length != 6)
        {
            throw new InvalidOperationException($"Interface {module.Interface} has no Ethernet address.");
        }

        var channel = PcapFrameChannel.Open(module.Interface, module.Vips);
        return new NeighborResponder(channel, mac, module.Vips, module.Arp.GratuitousInterval, timeProvider, logger);
    }

    /// <summary>Announces the VIPs, then answers on a dedicated thread and re-announces every interval.</summary>
    public void Start()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
            if (receiver is not null)
            {
                return;
            }

            Announce();

            // A dedicated thread: answering must not wait behind thread-pool starvation.
            receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = "farm-neighbor-responder" };
            receiver.Start();
            timer = timeProvider.CreateTimer(_ => AnnounceLogged(), null, interval, interval);
        }
    }

    /// <summary>Sends one gratuitous ARP or unsolicited neighbor advertisement per VIP.</summary>
    public void Announce()
    {
        foreach (byte[] frame in announcementFrames)
        {
            channel.Send(frame);
            Interlocked.Increment(ref announcements);
        }
    }

    /// <summary>Answers <paramref name="frame"/> when it asks for one of the VIPs; returns true when a reply was sent.</summary>
    internal bool Handle(ReadOnlySpan<byte> frame)
    {
        if (NeighborFrames.ReadEthernet(frame) is not { } ethernet)
        {
            return false;
        }

        byte[]? reply = null;
        if (NeighborFrames.TryParseArpRequest(ethernet, out var arp))
        {
            // spa == tpa is someone's announcement (e.g. a peer node's gratuitous ARP), not a question.
            if (vmacs.TryGetValue(arp.TargetAddress, out var vmac) && !arp.SenderAddress.Equals(arp.TargetAddress))
            {
                reply = NeighborFrames.ArpReply(nodeMac, vmac, arp.TargetAddress, arp.SenderMac, arp.SenderAddress);
            }
        }
        else if (NeighborFrames.TryParseNeighborSolicitation(ethernet, out var ns))
        {
            // A solicitation from :: is duplicate address detection by a host about to take the address: not answered.
            if (vmacs.TryGetValue(ns.Target, out var vmac) && !ns.Source.Equals(IPAddress.IPv6Any))
            {
                reply = NeighborFrames.NeighborAdvertisement(nodeMac, vmac, ns.Target, ns.ReplyMac, ns.Source, solicited: true);
            }
        }

        if (reply is null)
        {
            return false;
        }

        channel.Send(reply);
        Interlocked.Increment(ref replies);
        return true;
    }

    /// <summary>
    /// Stops answering and announcing: the timer is cancelled, the receive thread has ended and the capture is closed
    /// when this returns (the pcap channel takes up to ~0.6 s to notice the stop).
    /// </summary>
    public void Dispose()
    {
        Thread? thread;
        lock (gate)
        {
            if (Interlocked.Exchange(ref disposed, 1) != 0)
            {
                return;
            }

            timer?.Dispose();
            stopping.Cancel();
            channel.Wake();
            thread = receiver;
        }

        if (thread is not null && !thread.Join(StopTimeout))
        {
            // Should not happen; closing the channel under a blocked receive is still safe (SharpPcap holds the handle
            // until the native call returns), so go on rather than hang the daemon's stop.
            Log.ReceiveThreadStuck(logger, StopTimeout.TotalSeconds);
        }

        channel.Dispose();
        stopping.Dispose();
    }

    private void ReceiveLoop()
    {
        byte[] buffer = new byte[2048];
        var token = stopping.Token;
        while (!token.IsCancellationRequested)
        {
            int length;
            try
            {
                length = channel.Receive(buffer);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A background loop logs and goes on (the interface may come back), pausing so a broken capture does not spin.
                Log.ReceiveFailed(logger, e);
                try
                {
                    Task.Delay(TimeSpan.FromSeconds(1), timeProvider, token).Wait(token);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            if (length <= 0)
            {
                continue;
            }

            try
            {
                Handle(buffer.AsSpan(0, length));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.ReplyFailed(logger, e);
            }
        }
    }

    private void AnnounceLogged()
    {
        // A tick that raced with Dispose: the channel may be closing.
        if (Volatile.Read(ref disposed) != 0)
        {
            return;
        }

        try
        {
            Announce();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.AnnounceFailed(logger, e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2021, LogLevel.Warning, "Receiving ARP/NDP frames failed; retrying in 1 s.")]
        public static partial void ReceiveFailed(ILogger logger, Exception exception);

        [LoggerMessage(2022, LogLevel.Warning, "Answering an ARP/NDP frame failed.")]
        public static partial void ReplyFailed(ILogger logger, Exception exception);

        [LoggerMessage(2023, LogLevel.Warning, "Announcing the VIPs (gratuitous ARP / unsolicited NA) failed.")]
        public static partial void AnnounceFailed(ILogger logger, Exception exception);

        [LoggerMessage(2024, LogLevel.Warning, "The ARP/NDP receive thread did not end within {Seconds} s; closing the capture anyway.")]
        public static partial void ReceiveThreadStuck(ILogger logger, double seconds);
    }
}

using System.Text.RegularExpressions;
using Farm.Testing.Capture;

namespace Farm.Bench.Failover;

/// <summary>
/// tcpdump inside the client namespace, capturing only the SYNs the clients send to the service port, the SYN-ACKs
/// that come back and the segments with data from the service port (the apps' answers) (the kernel's BPF filter drops
/// everything else before tcpdump sees it). Tells which node accepted each connection attempt and when its app
/// answered, with kernel timestamps, independently of the client sockets.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed partial class SynAckCapture : IAsyncDisposable
{
    private const int EthernetHeader = 14;
    private readonly TcpdumpCapture tcpdump;

    private SynAckCapture(TcpdumpCapture tcpdump) => this.tcpdump = tcpdump;

    /// <summary>Starts tcpdump on <paramref name="interfaceName"/> of <paramref name="ns"/> and returns once it captures.</summary>
    public static async Task<SynAckCapture> StartAsync(NetworkNamespace ns, string interfaceName, int port, CancellationToken cancellationToken)
    {
        // Both directions, 64 bytes per frame (Ethernet + IPv4 + the TCP ports, sequence and ack numbers, flags), a 32 MiB
        // kernel buffer so bursts are not dropped; --immediate-mode so that the last frames are not lost when tcpdump stops.
        // Data from the service port: IP total length > IP header + TCP header.
        string filter = string.Create(CultureInfo.InvariantCulture, $"ip and ((tcp src port {port} and tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)) or (tcp dst port {port} and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn) or (tcp src port {port} and ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2) > 0))");
        return new SynAckCapture(await TcpdumpCapture.StartAsync(
            ns, ["-i", interfaceName, "-n", "--immediate-mode", "-U", "-B", "32768", "-s", "64", "-Z", "root"], filter, cancellationToken));
    }

    /// <summary>Stops tcpdump (SIGINT: it flushes) and returns the frames (SYNs, SYN-ACKs, answers) and how many the kernel dropped.</summary>
    public async Task<(List<SynAck> SynAcks, long Dropped)> StopAsync(IReadOnlyDictionary<long, sbyte> nodeOfMac, CancellationToken cancellationToken)
    {
        byte[] file = await tcpdump.StopAsync(TimeSpan.FromSeconds(20), cancellationToken);
        var match = DroppedLine().Match(tcpdump.Errors);
        long dropped = match.Success ? long.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture) : -1;
        return (Parse(file, nodeOfMac), dropped);
    }

    /// <summary>Kills tcpdump if it still runs and deletes the capture file.</summary>
    public ValueTask DisposeAsync() => tcpdump.DisposeAsync();

    /// <summary>A MAC address as the 48-bit number used as key of the node map.</summary>
    public static long MacKey(ReadOnlySpan<byte> mac) =>
        ((long)BinaryPrimitives.ReadUInt16BigEndian(mac) << 32) | BinaryPrimitives.ReadUInt32BigEndian(mac[2..]);

    private static List<SynAck> Parse(ReadOnlySpan<byte> file, IReadOnlyDictionary<long, sbyte> nodeOfMac)
    {
        var result = new List<SynAck>();
        if (file.Length < 24)
        {
            return result;
        }

        // Microsecond timestamps, Ethernet link type.
        var reader = new PcapReader(file);
        if (reader.NanosecondTimestamps)
        {
            throw new FormatException("Not a microsecond pcap file.");
        }

        if (reader.LinkType != 1)
        {
            throw new FormatException("The capture is not Ethernet.");
        }

        while (reader.TryRead(out uint seconds, out uint fraction, out var frame))
        {
            long micros = (seconds * 1_000_000L) + fraction;
            if (frame.Length < EthernetHeader + 20 || BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != 0x0800)
            {
                continue;
            }

            var ip = frame[EthernetHeader..];
            int ipHeader = (ip[0] & 0x0f) * 4;
            if (ip.Length < ipHeader + 14)
            {
                continue;
            }

            var tcp = ip[ipHeader..];
            if ((tcp[13] & 0x12) == 0x02)
            {
                // The client's SYN: keyed by its sequence number + 1, the acknowledgement its SYN-ACKs carry.
                result.Add(new SynAck(
                    micros,
                    BinaryPrimitives.ReadUInt32BigEndian(ip[12..]),
                    BinaryPrimitives.ReadUInt16BigEndian(tcp),
                    BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]) + 1,
                    -1,
                    IsSyn: true));
                continue;
            }

            // A SYN-ACK, or data: the app's answer (the SYN flag clear).
            sbyte node = nodeOfMac.TryGetValue(MacKey(frame[6..12]), out sbyte n) ? n : (sbyte)-1;
            result.Add(new SynAck(
                micros,
                BinaryPrimitives.ReadUInt32BigEndian(ip[16..]),
                BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]),
                BinaryPrimitives.ReadUInt32BigEndian(tcp[8..]),
                node,
                IsName: (tcp[13] & 0x02) == 0));
        }

        return result;
    }

    [GeneratedRegex(@"(\d+) packets? dropped by kernel")]
    private static partial Regex DroppedLine();
}

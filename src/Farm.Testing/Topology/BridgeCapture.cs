using Farm.Testing.Capture;

namespace Farm.Testing.Topology;

/// <summary>
/// Captures every frame crossing the topology's bridge (tcpdump on all interfaces of the bridge namespace, so each
/// frame is seen where it enters and where it leaves), for assertions on link-layer facts such as "no frame ever
/// carries the virtual MAC as its Ethernet source".
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class BridgeCapture : IAsyncDisposable
{
    private const ushort LinkEthernet = 1;
    private const ushort LinkLinuxSll = 113;
    private const ushort LinkLinuxSll2 = 276;

    private readonly TcpdumpCapture tcpdump;

    private BridgeCapture(TcpdumpCapture tcpdump) => this.tcpdump = tcpdump;

    /// <summary>Starts tcpdump in the bridge namespace and returns once it captures.</summary>
    /// <exception cref="InvalidOperationException">tcpdump exited or did not start capturing within 10 s.</exception>
    public static async Task<BridgeCapture> StartAsync(FarmTopology topology, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topology);

        // -Z root: tcpdump would otherwise drop to its own user, which may not write into our temporary folder.
        return new BridgeCapture(await TcpdumpCapture.StartAsync(
            topology.Bridge, ["-i", "any", "-n", "--immediate-mode", "-U", "-s", "256", "-Z", "root"], filter: null, cancellationToken));
    }

    /// <summary>Stops tcpdump (it flushes on SIGINT) and returns every captured frame.</summary>
    public async Task<IReadOnlyList<CapturedFrame>> StopAsync(CancellationToken cancellationToken = default) =>
        Parse(await tcpdump.StopAsync(TimeSpan.FromSeconds(10), cancellationToken));

    /// <summary>Kills tcpdump if it still runs and deletes the capture file.</summary>
    public ValueTask DisposeAsync() => tcpdump.DisposeAsync();

    /// <summary>Parses a pcap file of Ethernet, Linux cooked (SLL) or SLL2 frames.</summary>
    /// <exception cref="FormatException">Not a pcap file, or an unsupported link type.</exception>
    public static IReadOnlyList<CapturedFrame> Parse(ReadOnlySpan<byte> file)
    {
        var reader = new PcapReader(file);
        ushort linkType = (ushort)reader.LinkType;
        var frames = new List<CapturedFrame>();
        while (reader.TryRead(out _, out _, out var data))
        {
            switch (linkType)
            {
                case LinkEthernet when data.Length >= 14:
                    frames.Add(new CapturedFrame(0, new PhysicalAddress(data[6..12].ToArray()), BinaryPrimitives.ReadUInt16BigEndian(data[12..]), data[14..].ToArray()));
                    break;
                case LinkLinuxSll when data.Length >= 16 && BinaryPrimitives.ReadUInt16BigEndian(data[4..]) == 6:
                    frames.Add(new CapturedFrame(0, new PhysicalAddress(data[6..12].ToArray()), BinaryPrimitives.ReadUInt16BigEndian(data[14..]), data[16..].ToArray()));
                    break;
                case LinkLinuxSll2 when data.Length >= 20 && data[11] == 6:
                    frames.Add(new CapturedFrame(
                        (int)BinaryPrimitives.ReadUInt32BigEndian(data[4..]),
                        new PhysicalAddress(data[12..18].ToArray()),
                        BinaryPrimitives.ReadUInt16BigEndian(data),
                        data[20..].ToArray()));
                    break;
                case LinkEthernet or LinkLinuxSll or LinkLinuxSll2:
                    break; // not an Ethernet-addressed frame
                default:
                    throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"Unsupported pcap link type {linkType}."));
            }
        }

        return frames;
    }
}

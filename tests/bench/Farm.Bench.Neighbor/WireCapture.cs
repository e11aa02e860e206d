namespace Farm.Bench.Neighbor;

/// <summary>A probe or reply seen on the client's interface, with the kernel's nanosecond timestamp.</summary>
internal readonly record struct WireFrame(long Nanoseconds, ProbeKind Kind, int Id, PhysicalAddress Source, PhysicalAddress? LinkLayer);

/// <summary>
/// tcpdump on the client's interface, nanosecond timestamps: the kernel stamps a probe as it leaves through the
/// interface and a reply as it arrives, so request-to-reply is the time on the wire seen from the client, without the
/// benchmark's own scheduling.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed partial class WireCapture : IAsyncDisposable
{
    private const uint LinkEthernet = 1;
    private readonly TcpdumpCapture tcpdump;

    private WireCapture(TcpdumpCapture tcpdump) => this.tcpdump = tcpdump;

    /// <summary>How many frames the kernel dropped before tcpdump read them (-1: tcpdump did not say).</summary>
    public long Dropped { get; private set; } = -1;

    /// <summary>Starts tcpdump on <paramref name="interfaceName"/> of <paramref name="ns"/> and returns once it captures.</summary>
    public static async Task<WireCapture> StartAsync(NetworkNamespace ns, string interfaceName, CancellationToken cancellationToken)
    {
        // Immediate mode so the last frames are not lost on stop; a 16 MiB buffer; no promiscuous mode (the replies are
        // addressed to the client); -Z root so tcpdump may write into the temporary folder.
        return new WireCapture(await TcpdumpCapture.StartAsync(
            ns,
            ["-i", interfaceName, "-n", "-p", "--immediate-mode", "-U", "-B", "16384", "-s", "128", "--time-stamp-precision=nano", "-Z", "root"],
            ProbeFrames.CaptureFilter,
            cancellationToken));
    }

    /// <summary>Stops tcpdump and returns the probes and replies it saw, in capture order.</summary>
    public async Task<List<WireFrame>> StopAsync(IPAddress vip4, IPAddress vip6, CancellationToken cancellationToken)
    {
        byte[] file = await tcpdump.StopAsync(TimeSpan.FromSeconds(20), cancellationToken);
        var match = DroppedLine().Match(tcpdump.Errors);
        Dropped = match.Success ? long.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture) : -1;

        var reader = new PcapReader(file);
        if (!reader.NanosecondTimestamps || reader.LinkType != LinkEthernet)
        {
            throw new FormatException("Expected an Ethernet capture with nanosecond timestamps.");
        }

        var frames = new List<WireFrame>();
        while (reader.TryRead(out uint seconds, out uint nanoseconds, out var data))
        {
            var kind = ProbeFrames.Classify(data, vip4, vip6, out int id, out var linkLayer);
            if (kind != ProbeKind.None)
            {
                frames.Add(new WireFrame((seconds * 1_000_000_000L) + nanoseconds, kind, id, new PhysicalAddress(data[6..12].ToArray()), linkLayer));
            }
        }

        return frames;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => tcpdump.DisposeAsync();

    [GeneratedRegex(@"(\d+) packets? dropped by kernel")]
    private static partial Regex DroppedLine();
}

using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using System.Text;
using System.Text.RegularExpressions;
using Farm.Testing.Network;
using Farm.Testing.Processes;

namespace Farm.Bench.Failover;

/// <summary>
/// tcpdump inside the client namespace, capturing only the SYNs the clients send to the service port and the SYN-ACKs
/// that come back (the kernel's BPF filter drops everything else before tcpdump sees it). Tells which node accepted each connection attempt, with kernel
/// timestamps, independently of the client sockets.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed partial class SynAckCapture : IAsyncDisposable
{
    private const int EthernetHeader = 14;
    private readonly Process process;
    private readonly string directory;
    private readonly StringBuilder errors = new();
    private readonly TaskCompletionSource listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int stopped;

    private SynAckCapture(Process process, string directory)
    {
        this.process = process;
        this.directory = directory;
    }

    private string FilePath => Path.Combine(directory, "synack.pcap");

    /// <summary>Starts tcpdump on <paramref name="interfaceName"/> of <paramref name="ns"/> and returns once it captures.</summary>
    public static async Task<SynAckCapture> StartAsync(NetworkNamespace ns, string interfaceName, int port, CancellationToken cancellationToken)
    {
        string directory = Directory.CreateTempSubdirectory("farm-failover-capture-").FullName;
        var info = new ProcessStartInfo(ToolLocator.Require("ip", "iproute2"))
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };

        // Both directions, 64 bytes per frame (Ethernet + IPv4 + the TCP ports, sequence and ack numbers), a 32 MiB kernel
        // buffer so bursts are not dropped; --immediate-mode so that the last frames are not lost when tcpdump stops.
        string filter = string.Create(CultureInfo.InvariantCulture, $"ip and ((tcp src port {port} and tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)) or (tcp dst port {port} and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn))");
        foreach (string argument in (string[])["netns", "exec", ns.Name, ToolLocator.Require("tcpdump", "tcpdump"),
                     "-i", interfaceName, "-n", "--immediate-mode", "-U", "-B", "32768", "-s", "64", "-Z", "root",
                     "-w", Path.Combine(directory, "synack.pcap"), filter])
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        var capture = new SynAckCapture(process, directory);
        process.ErrorDataReceived += (_, e) => capture.OnError(e.Data);
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            await capture.listening.Task.WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System, cancellationToken);
        }
        catch (TimeoutException)
        {
            await capture.DisposeAsync();
            throw new InvalidOperationException("tcpdump did not start capturing within 10 s: " + capture.Errors);
        }

        return capture;
    }

    /// <summary>Stops tcpdump (SIGINT: it flushes) and returns the SYN-ACKs and how many frames the kernel dropped.</summary>
    public async Task<(List<SynAck> SynAcks, long Dropped)> StopAsync(IReadOnlyDictionary<long, sbyte> nodeOfMac, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref stopped, 1) == 0 && !process.HasExited)
        {
            await CommandRunner.Default.RunAsync(
                ToolLocator.Require("kill", "procps"), ["-s", "INT", process.Id.ToString(CultureInfo.InvariantCulture)], cancellationToken: cancellationToken);
            await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(20), TimeProvider.System, cancellationToken);
        }

        process.WaitForExit(); // the stderr reader has delivered the last lines
        var match = DroppedLine().Match(Errors);
        long dropped = match.Success ? long.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture) : -1;
        return (Parse(await File.ReadAllBytesAsync(FilePath, cancellationToken), nodeOfMac), dropped);
    }

    /// <summary>Kills tcpdump if it still runs and deletes the capture file.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
            Directory.Delete(directory, recursive: true);
        }
    }

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

        // tcpdump writes the host's byte order; microsecond timestamps (magic a1b2c3d4), Ethernet link type.
        bool little = BinaryPrimitives.ReadUInt32LittleEndian(file) == 0xa1b2c3d4;
        if (!little && BinaryPrimitives.ReadUInt32BigEndian(file) != 0xa1b2c3d4)
        {
            throw new FormatException("Not a microsecond pcap file.");
        }

        uint U32(ReadOnlySpan<byte> s) => little ? BinaryPrimitives.ReadUInt32LittleEndian(s) : BinaryPrimitives.ReadUInt32BigEndian(s);
        if (U32(file[20..]) != 1)
        {
            throw new FormatException("The capture is not Ethernet.");
        }

        int offset = 24;
        while (offset + 16 <= file.Length)
        {
            long micros = (U32(file[offset..]) * 1_000_000L) + U32(file[(offset + 4)..]);
            int length = (int)U32(file[(offset + 8)..]);
            offset += 16;
            if (offset + length > file.Length)
            {
                break; // a record cut short
            }

            var frame = file.Slice(offset, length);
            offset += length;
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

            sbyte node = nodeOfMac.TryGetValue(MacKey(frame[6..12]), out sbyte n) ? n : (sbyte)-1;
            result.Add(new SynAck(
                micros,
                BinaryPrimitives.ReadUInt32BigEndian(ip[16..]),
                BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]),
                BinaryPrimitives.ReadUInt32BigEndian(tcp[8..]),
                node));
        }

        return result;
    }

    [GeneratedRegex(@"(\d+) packets? dropped by kernel")]
    private static partial Regex DroppedLine();

    private string Errors
    {
        get
        {
            lock (errors)
            {
                return errors.ToString();
            }
        }
    }

    private void OnError(string? line)
    {
        if (line is null)
        {
            listening.TrySetException(new InvalidOperationException("tcpdump exited: " + Errors));
            return;
        }

        lock (errors)
        {
            errors.AppendLine(line);
        }

        if (line.Contains("listening on", StringComparison.Ordinal))
        {
            listening.TrySetResult();
        }
    }
}

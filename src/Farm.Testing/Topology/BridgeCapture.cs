using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.NetworkInformation;
using System.Runtime.Versioning;
using System.Text;
using Farm.Testing.Processes;

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

    private readonly Process process;
    private readonly string directory;
    private readonly StringBuilder errors = new();
    private readonly TaskCompletionSource listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int stopped;

    private BridgeCapture(Process process, string directory)
    {
        this.process = process;
        this.directory = directory;
    }

    private string FilePath => Path.Combine(directory, "bridge.pcap");

    /// <summary>Starts tcpdump in the bridge namespace and returns once it captures.</summary>
    /// <exception cref="InvalidOperationException">tcpdump exited or did not start capturing within 10 s.</exception>
    public static async Task<BridgeCapture> StartAsync(FarmTopology topology, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topology);
        string directory = Directory.CreateTempSubdirectory("farm-capture-").FullName;
        var info = new ProcessStartInfo(ToolLocator.Require("ip", "iproute2"))
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };

        // --immediate-mode: without it libpcap hands frames over in blocks (up to a second late), and the frames of the
        // last block are lost when tcpdump stops. -Z root: tcpdump would otherwise drop to its own user, which may not
        // write into our temporary folder.
        foreach (string argument in (string[])["netns", "exec", topology.Bridge.Name, ToolLocator.Require("tcpdump", "tcpdump"),
                     "-i", "any", "-n", "--immediate-mode", "-U", "-s", "256", "-Z", "root", "-w", Path.Combine(directory, "bridge.pcap")])
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        var capture = new BridgeCapture(process, directory);
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

    /// <summary>Stops tcpdump (it flushes on SIGINT) and returns every captured frame.</summary>
    public async Task<IReadOnlyList<CapturedFrame>> StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref stopped, 1) == 0 && !process.HasExited)
        {
            await CommandRunner.Default.RunAsync(
                ToolLocator.Require("kill", "procps"), ["-s", "INT", process.Id.ToString(CultureInfo.InvariantCulture)], cancellationToken: cancellationToken);
            await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System, cancellationToken);
        }

        return Parse(await File.ReadAllBytesAsync(FilePath, cancellationToken));
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

    /// <summary>Parses a pcap file of Ethernet, Linux cooked (SLL) or SLL2 frames.</summary>
    /// <exception cref="FormatException">Not a pcap file, or an unsupported link type.</exception>
    public static IReadOnlyList<CapturedFrame> Parse(ReadOnlySpan<byte> file)
    {
        if (file.Length < 24)
        {
            throw new FormatException("Too short for a pcap file.");
        }

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(file);
        bool little = magic is 0xa1b2c3d4 or 0xa1b23c4d;
        if (!little && BinaryPrimitives.ReadUInt32BigEndian(file) is not (0xa1b2c3d4 or 0xa1b23c4d))
        {
            throw new FormatException("Not a pcap file (bad magic number).");
        }

        uint U32(ReadOnlySpan<byte> s) => little ? BinaryPrimitives.ReadUInt32LittleEndian(s) : BinaryPrimitives.ReadUInt32BigEndian(s);
        ushort linkType = (ushort)U32(file[20..]);
        var frames = new List<CapturedFrame>();
        int offset = 24;
        while (offset + 16 <= file.Length)
        {
            int length = (int)U32(file[(offset + 8)..]);
            offset += 16;
            if (offset + length > file.Length)
            {
                break; // a record cut by a killed tcpdump
            }

            var data = file.Slice(offset, length);
            offset += length;
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

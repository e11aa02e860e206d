namespace Farm.Testing.Capture;

/// <summary>
/// tcpdump writing a pcap file inside a network namespace (<c>ip netns exec</c>): started and awaited until it
/// captures, stopped with SIGINT (it flushes), its stderr kept (e.g. for the "dropped by kernel" count). Disposing kills
/// it if it still runs and deletes the file.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class TcpdumpCapture : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    private readonly Process process;
    private readonly string directory;
    private readonly StringBuilder errors = new();
    private readonly TaskCompletionSource listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int stopped;

    private TcpdumpCapture(Process process, string directory)
    {
        this.process = process;
        this.directory = directory;
    }

    /// <summary>Everything tcpdump wrote to stderr so far.</summary>
    public string Errors
    {
        get
        {
            lock (errors)
            {
                return errors.ToString();
            }
        }
    }

    private string FilePath => Path.Combine(directory, "capture.pcap");

    /// <summary>
    /// Starts <c>tcpdump OPTIONS -w FILE [FILTER]</c> inside <paramref name="ns"/> and returns once it captures.
    /// <paramref name="options"/> should hold <c>--immediate-mode</c>: without it libpcap hands frames over in blocks
    /// (up to a second late), and the frames of the last block are lost when tcpdump stops.
    /// </summary>
    /// <exception cref="InvalidOperationException">tcpdump exited or did not start capturing within 10 s.</exception>
    public static async Task<TcpdumpCapture> StartAsync(NetworkNamespace ns, IReadOnlyList<string> options, string? filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentNullException.ThrowIfNull(options);
        string directory = Directory.CreateTempSubdirectory("farm-capture-").FullName;
        var info = new ProcessStartInfo(ToolLocator.Require("ip", "iproute2"))
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };

        var capture = new TcpdumpCapture(new Process { StartInfo = info }, directory);
        foreach (string argument in (string[])["netns", "exec", ns.Name, ToolLocator.Require("tcpdump", "tcpdump"), .. options, "-w", capture.FilePath, .. filter is null ? (string[])[] : [filter]])
        {
            info.ArgumentList.Add(argument);
        }

        capture.process.ErrorDataReceived += (_, e) => capture.OnError(e.Data);
        capture.process.Start();
        capture.process.BeginErrorReadLine();
        capture.process.BeginOutputReadLine();
        try
        {
            await capture.listening.Task.WaitAsync(StartTimeout, TimeProvider.System, cancellationToken);
        }
        catch (TimeoutException)
        {
            await capture.DisposeAsync();
            throw new InvalidOperationException("tcpdump did not start capturing within 10 s: " + capture.Errors);
        }

        return capture;
    }

    /// <summary>Stops tcpdump (SIGINT: it flushes), waiting up to <paramref name="exitTimeout"/>, and returns the pcap file's bytes.</summary>
    public async Task<byte[]> StopAsync(TimeSpan exitTimeout, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref stopped, 1) == 0 && !process.HasExited)
        {
            await CommandRunner.Default.RunAsync(
                ToolLocator.Require("kill", "procps"), ["-s", "INT", process.Id.ToString(CultureInfo.InvariantCulture)], cancellationToken: cancellationToken);
            await process.WaitForExitAsync(cancellationToken).WaitAsync(exitTimeout, TimeProvider.System, cancellationToken);
        }

        process.WaitForExit(); // the stderr reader has delivered the last lines
        return await File.ReadAllBytesAsync(FilePath, cancellationToken);
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

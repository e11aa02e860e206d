using System.Diagnostics;
using System.Text;
using Farm.Testing.Processes;

namespace Farm.Daemon.Tests.TestSupport;

/// <summary>A real <c>farmd</c> process (the build output run with <c>dotnet</c>); killed on dispose if still running.</summary>
internal sealed class FarmdProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private FarmdProcess(string name, Process process, string socket)
    {
        Name = name;
        this.process = process;
        Socket = socket;
    }

    public string Name { get; }

    public string Socket { get; }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public static FarmdProcess Start(string clusterFile, string name, string dir, IEnumerable<string>? extraArguments = null, IDictionary<string, string>? environment = null)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "farmd.dll");
        string socket = Path.Combine(dir, name + ".sock");
        var info = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string arg in new[] { dll, "--cluster", clusterFile, "--node", name, "--admin-socket", socket }
                     .Concat(TestClusterFiles.AddressMapArguments()).Concat(extraArguments ?? []))
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("NOTIFY_SOCKET");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new AssertFailedException("dotnet did not start");
        var farmd = new FarmdProcess(name, process, socket);
        process.OutputDataReceived += (_, e) => farmd.Append(e.Data);
        process.ErrorDataReceived += (_, e) => farmd.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return farmd;
    }

    /// <summary>SIGKILL: no cleanup, no goodbye.</summary>
    public void KillHard() => process.Kill(entireProcessTree: false);

    /// <summary>SIGTERM, as systemd sends on stop.</summary>
    public Task TerminateAsync() => CommandRunner.Default.RunAsync("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    public Task WaitForExitAsync(TimeSpan timeout) => process.WaitForExitAsync().WithTimeout(timeout);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        finally
        {
            process.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}

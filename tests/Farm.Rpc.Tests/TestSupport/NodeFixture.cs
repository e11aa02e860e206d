using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Farm.Testing.Processes;

namespace Farm.Rpc.Tests.TestSupport;

/// <summary>
/// Runs the @grpc/grpc-js scripts in tests/Farm.Rpc.Tests/interop. Installs their packages with
/// <c>npm ci</c> (from the committed lock file) only when node_modules is missing, so reruns are offline and fast.
/// </summary>
internal static class NodeFixture
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private static bool installed;

    public static string Directory { get; } = typeof(NodeFixture).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "InteropFixtureDirectory").Value!;

    public static async Task EnsureInstalledAsync()
    {
        await InstallLock.WaitAsync();
        try
        {
            if (installed)
            {
                return;
            }

            await RunToEndAsync("node", ["--version"], TimeSpan.FromSeconds(30));
            if (!System.IO.Directory.Exists(Path.Combine(Directory, "node_modules", "@grpc", "grpc-js")))
            {
                var npm = await RunToEndAsync("npm", ["ci", "--prefix", Directory, "--no-audit", "--no-fund"], TimeSpan.FromMinutes(5));
                if (!npm.Succeeded)
                {
                    throw new AssertFailedException($"'npm ci' failed in {Directory} (exit {npm.ExitCode}):\n{npm.StandardError}");
                }
            }

            installed = true;
        }
        finally
        {
            InstallLock.Release();
        }
    }

    /// <summary>Runs <c>node client.js target case [ca.pem]</c> and parses the JSON line it prints.</summary>
    public static async Task<JsonElement> RunClientAsync(string target, string scenario, string? caPemFile = null)
    {
        await EnsureInstalledAsync();
        string script = Script("client.js");
        string[] arguments = caPemFile is null ? [script, target, scenario] : [script, target, scenario, caPemFile];
        var result = await RunToEndAsync("node", arguments, TimeSpan.FromSeconds(30));
        if (!result.Succeeded)
        {
            throw new AssertFailedException($"node client.js {scenario} exited with {result.ExitCode}:\n{result.StandardError}");
        }

        string line = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
            ?? throw new AssertFailedException($"node client.js {scenario} printed nothing:\n{result.StandardError}");
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    /// <summary>Starts <c>node server.js</c> and waits for the port it bound.</summary>
    public static async Task<NodeServer> StartServerAsync()
    {
        await EnsureInstalledAsync();
        var info = new ProcessStartInfo("node")
        {
            ArgumentList = { Script("server.js") },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        var server = new NodeServer(Process.Start(info) ?? throw new AssertFailedException("Could not start node."));
        await server.WaitForPortAsync();
        return server;
    }

    /// <summary>The scripts resolve their modules and the proto from their own folder, so any working directory does.</summary>
    private static string Script(string name) => Path.Combine(Directory, name);

    private static async Task<CommandResult> RunToEndAsync(string fileName, string[] arguments, TimeSpan timeout)
    {
        try
        {
            return await CommandRunner.Default.RunUncheckedAsync(fileName, arguments, timeout: timeout);
        }
        catch (CommandFailedException ex)
        {
            throw new AssertFailedException(
                $"'{fileName}' was not found: the gRPC interop tests need Node.js 20 and npm on PATH (CI installs them). {ex.Message}");
        }
    }
}

/// <summary>A running <c>node server.js</c>; its stdout carries JSON event lines.</summary>
internal sealed class NodeServer(Process process) : IAsyncDisposable
{
    private readonly List<JsonElement> events = [];
    private readonly SemaphoreSlim eventsChanged = new(0);

    public int Port { get; private set; }

    public Uri Address => new($"http://127.0.0.1:{Port}");

    public async Task WaitForPortAsync()
    {
        string? line = await process.StandardOutput.ReadLineAsync().WaitAsync(TestTimeout.Default);
        if (line is null)
        {
            throw new AssertFailedException($"node server.js exited early:\n{await process.StandardError.ReadToEndAsync()}");
        }

        Port = JsonDocument.Parse(line).RootElement.GetProperty("port").GetInt32();
        _ = PumpEventsAsync();
    }

    /// <summary>Waits until the server reports an event such as <c>cancelled</c>.</summary>
    public async Task<JsonElement> WaitForEventAsync(string name)
    {
        while (true)
        {
            lock (events)
            {
                foreach (JsonElement e in events)
                {
                    if (e.GetProperty("event").GetString() == name)
                    {
                        return e;
                    }
                }
            }

            await eventsChanged.WaitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }

        process.Dispose();
    }

    private async Task PumpEventsAsync()
    {
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            lock (events)
            {
                events.Add(JsonDocument.Parse(line).RootElement.Clone());
            }

            eventsChanged.Release();
        }
    }
}

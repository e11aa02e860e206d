using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace Farm.Daemon.Tests.TestSupport;

/// <summary>
/// Runs the @grpc/grpc-js admin client in tests/Farm.Daemon.Tests/interop. Installs its packages with <c>npm ci</c>
/// (from the committed lock file) only when node_modules is missing, so reruns are offline and fast.
/// </summary>
internal static class NodeFixture
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private static bool installed;

    public static string Directory { get; } = Metadata("InteropFixtureDirectory");

    public static string ProtoRoot { get; } = Path.GetFullPath(Metadata("ProtoRoot"));

    /// <summary>Runs <c>node admin-client.js target mode [key]</c> and parses the JSON line it prints.</summary>
    public static async Task<JsonElement> RunAdminClientAsync(string target, string mode, string? key = null)
    {
        await EnsureInstalledAsync();
        string[] arguments = key is null ? ["admin-client.js", target, mode] : ["admin-client.js", target, mode, key];
        var (exitCode, stdout, stderr) = await RunToEndAsync("node", arguments, TimeSpan.FromSeconds(30));
        if (exitCode != 0)
        {
            throw new AssertFailedException($"node admin-client.js {mode} exited with {exitCode}:\n{stderr}");
        }

        string line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
            ?? throw new AssertFailedException($"node admin-client.js {mode} printed nothing:\n{stderr}");
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    private static async Task EnsureInstalledAsync()
    {
        await InstallLock.WaitAsync();
        try
        {
            if (installed)
            {
                return;
            }

            if (!System.IO.Directory.Exists(Path.Combine(Directory, "node_modules", "@grpc", "grpc-js")))
            {
                var npm = await RunToEndAsync("npm", ["ci", "--no-audit", "--no-fund"], TimeSpan.FromMinutes(5));
                if (npm.ExitCode != 0)
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

    private static string Metadata(string key) => typeof(NodeFixture).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == key).Value!;

    private static async Task<(int ExitCode, string StandardOutput, string StandardError)> RunToEndAsync(string fileName, string[] arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        info.Environment["PROTO_ROOT"] = ProtoRoot;
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new AssertFailedException($"Could not start {fileName}.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new AssertFailedException($"'{fileName}' was not found: the interop tests need Node.js and npm on PATH. {ex.Message}");
        }

        using (process)
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new AssertFailedException($"{fileName} {string.Join(' ', arguments)} did not finish within {timeout}.");
            }

            return (process.ExitCode, await stdout, await stderr);
        }
    }
}

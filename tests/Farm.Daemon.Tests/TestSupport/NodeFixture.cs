using System.Reflection;

namespace Farm.Daemon.Tests.TestSupport;

/// <summary>
/// Runs the @grpc/grpc-js admin client in tests/Farm.Daemon.Tests/interop. Installs its packages with <c>npm ci</c>
/// (from the committed lock file) only when node_modules is missing, so reruns are offline and fast.
/// </summary>
internal static class NodeFixture
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private static bool installed;

    public static string Directory { get; } = typeof(NodeFixture).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "InteropFixtureDirectory").Value!;

    /// <summary>Runs <c>node farmd-client.js target mode [key]</c> and parses the JSON line it prints.</summary>
    public static async Task<JsonElement> RunClientAsync(string target, string mode, string? key = null)
    {
        await EnsureInstalledAsync();

        // The script resolves its packages and the protos from its own folder, so any working directory does.
        string script = Path.Combine(Directory, "farmd-client.js");
        string[] arguments = key is null ? [script, target, mode] : [script, target, mode, key];
        var result = await RunToEndAsync("node", arguments, TimeSpan.FromSeconds(30));
        if (!result.Succeeded)
        {
            throw new AssertFailedException($"node farmd-client.js {mode} exited with {result.ExitCode}:\n{result.StandardError}");
        }

        string line = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
            ?? throw new AssertFailedException($"node farmd-client.js {mode} printed nothing:\n{result.StandardError}");
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

    private static async Task<CommandResult> RunToEndAsync(string fileName, string[] arguments, TimeSpan timeout)
    {
        try
        {
            return await CommandRunner.Default.RunUncheckedAsync(fileName, arguments, timeout: timeout);
        }
        catch (CommandFailedException ex)
        {
            throw new AssertFailedException($"'{fileName}' was not found: the interop tests need Node.js and npm on PATH. {ex.Message}");
        }
        catch (TimeoutException ex)
        {
            throw new AssertFailedException(ex.Message);
        }
    }
}

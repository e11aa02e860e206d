using Farm.Testing.Processes;

namespace Farm.Installer.Tests.TestSupport;

/// <summary>What the scenario needs built: the .deb of this checkout, and the containers' root file system.</summary>
internal static class Builds
{
    /// <summary>Runs <c>installer/package.sh TARGET --output DIR</c> and returns DIR (fresh, deleted by the caller).</summary>
    public static async Task<string> PackageAsync(string target, TimeSpan timeout)
    {
        string output = Directory.CreateTempSubdirectory("farm-package-").FullName;
        var result = await CommandRunner.Default.RunUncheckedAsync(Repository.PackageScript, ["--output", output, target], timeout: timeout);
        if (!result.Succeeded)
        {
            Directory.Delete(output, recursive: true);
            Assert.Fail($"installer/package.sh {target} failed ({result.ExitCode}):\n{result.StandardOutput}\n{result.StandardError}");
        }

        return output;
    }

    /// <summary>The cached Debian 12 root file system (built on first use, ~2.5-5 min).</summary>
    public static async Task<string> RootFileSystemAsync()
    {
        var result = await CommandRunner.Default.RunUncheckedAsync(Repository.RootFileSystemScript, [], timeout: TimeSpan.FromMinutes(15));
        Assert.IsTrue(result.Succeeded, $"build-rootfs.sh failed ({result.ExitCode}):\n{result.StandardError}");
        return result.StandardOutput.Trim();
    }
}

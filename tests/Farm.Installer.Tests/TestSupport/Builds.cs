using Farm.Testing.Processes;

namespace Farm.Installer.Tests.TestSupport;

/// <summary>What the scenario needs built: the .deb of this checkout, and the containers' root file system.</summary>
internal static class Builds
{
    /// <summary>
    /// Runs <c>installer/package.sh --output DIR TARGET</c> and returns DIR (fresh, deleted by the caller). For the deb,
    /// when <c>FARM_TEST_FARMD</c> names a farmd (tests/run.sh publishes one with package.sh's farmd target), its folder
    /// goes in with <c>--farmd-publish</c>: package.sh checks it and packs it instead of compiling farmd's composite image
    /// a second time (~2 min on 2 cores); the package is the same.
    /// </summary>
    public static async Task<string> PackageAsync(string target, TimeSpan timeout)
    {
        string output = Directory.CreateTempSubdirectory("farm-package-").FullName;
        List<string> arguments = ["--output", output];
        string? farmd = Environment.GetEnvironmentVariable("FARM_TEST_FARMD");
        string? farmdPublish = target == "deb" && !string.IsNullOrEmpty(farmd) ? Path.GetDirectoryName(Path.GetFullPath(farmd)) : null;
        if (farmdPublish is not null)
        {
            arguments.AddRange(["--farmd-publish", farmdPublish]);
        }

        arguments.Add(target);
        var result = await CommandRunner.Default.RunUncheckedAsync(Repository.PackageScript, arguments, timeout: timeout);
        if (!result.Succeeded)
        {
            Directory.Delete(output, recursive: true);
            string from = farmdPublish is null ? "" : $" with --farmd-publish {farmdPublish} (the folder of FARM_TEST_FARMD: publish it as tests/run.sh does, or unset FARM_TEST_FARMD)";
            Assert.Fail($"installer/package.sh {target}{from} failed ({result.ExitCode}):\n{result.StandardOutput}\n{result.StandardError}");
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

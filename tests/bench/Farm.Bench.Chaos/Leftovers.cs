namespace Farm.Bench.Chaos;

/// <summary>
/// What a finished soak must not leave behind: its namespaces, any farmd it started, a hung checker's sleep, its files,
/// and (read-only) no fault or farm table in the root namespace, which the soak never touches.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class Leftovers
{
    public static async Task<IReadOnlyList<string>> FindAsync(SoakResult result, IReadOnlySet<int> farmdPids)
    {
        var found = new List<string>();
        string ip = ToolLocator.Require("ip", "iproute2");
        var namespaces = await CommandRunner.Default.RunUncheckedAsync(ip, ["netns", "list"]);
        foreach (string name in result.Namespaces)
        {
            if (namespaces.StandardOutput.Split('\n').Any(l => l.Split(' ')[0] == name))
            {
                found.Add($"namespace {name}");
            }
        }

        foreach (int pid in farmdPids)
        {
            string cmdline = Path.Combine("/proc", pid.ToString(CultureInfo.InvariantCulture), "cmdline");
            if (File.Exists(cmdline) && File.ReadAllText(cmdline).Contains("farmd", StringComparison.Ordinal))
            {
                found.Add($"farmd process {pid}");
            }
        }

        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                    && File.ReadAllText(Path.Combine(dir, "cmdline")).StartsWith("farmchaos-hang-", StringComparison.Ordinal))
                {
                    found.Add($"hung checker process {pid}");
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        if (result.Root is { } root && Directory.Exists(root))
        {
            found.Add($"folder {root}");
        }

        var tables = await CommandRunner.Default.RunUncheckedAsync(ToolLocator.Require("nft", "nftables"), ["list", "tables"]);
        foreach (string line in tables.StandardOutput.Split('\n'))
        {
            if (line.Contains(FaultRules.Table, StringComparison.Ordinal))
            {
                found.Add($"root namespace nft: {line.Trim()}");
            }
        }

        return found;
    }
}

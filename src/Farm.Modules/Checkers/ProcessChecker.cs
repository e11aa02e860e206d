using System.Globalization;
using System.Text.RegularExpressions;
using Farm.Core.Config;

namespace Farm.Modules.Checkers;

/// <summary><c>type: process</c>: up while the number of processes matching a name or a regular expression is within min..max.</summary>
/// <param name="config">The checker.</param>
/// <param name="procRoot">The proc file system; tests pass a fake tree.</param>
internal sealed class ProcessChecker(ProcessCheckerConfig config, string procRoot = "/proc") : IChecker
{
    // The kernel truncates /proc/PID/comm to 15 characters.
    private const int CommLength = 15;

    private readonly Regex? regex = config.Regex is null ? null : new Regex(config.Regex, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    public Task<CheckResult> CheckAsync(CancellationToken cancellationToken)
    {
        int count = 0;
        foreach (string dir in Directory.EnumerateDirectories(procRoot))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                continue;
            }

            try
            {
                if (Matches(dir))
                {
                    count++;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked at it.
            }
        }

        string what = config.ProcessName is not null ? $"named '{config.ProcessName}'" : $"matching '{config.Regex}'";
        string bounds = config.Max is { } max ? $"{config.Min}..{max}" : $"at least {config.Min}";
        bool up = count >= config.Min && (config.Max is null || count <= config.Max);
        return Task.FromResult(new CheckResult(up, $"{count} process(es) {what}, {(up ? "within" : "expected")} {bounds}"));
    }

    private bool Matches(string dir)
    {
        if (regex is not null)
        {
            string cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim();
            return cmdline.Length > 0 && regex.IsMatch(cmdline);
        }

        string name = config.ProcessName!;
        string comm = File.ReadAllText(Path.Combine(dir, "comm")).TrimEnd('\n');
        if (comm == name)
        {
            return true;
        }

        // A long name is cut in comm; then the program name of argv[0] decides.
        if (name.Length > CommLength && comm == name[..CommLength])
        {
            string cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
            int end = cmdline.IndexOf('\0', StringComparison.Ordinal);
            string argv0 = end >= 0 ? cmdline[..end] : cmdline;
            return Path.GetFileName(argv0) == name;
        }

        return false;
    }
}

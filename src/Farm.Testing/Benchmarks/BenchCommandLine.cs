namespace Farm.Testing.Benchmarks;

/// <summary>The command line of a benchmark program (tests/bench): what it checks before it runs, and its options.</summary>
public sealed class BenchCommandLine(string[] args)
{
    /// <summary>
    /// The exit code to return at once, or null to run: 2 off Linux (saying on stderr that the benchmark needs Linux and
    /// <paramref name="needs"/>), 0 after writing <paramref name="usage"/> for -h or --help.
    /// </summary>
    public int? Refusal(string usage, string needs)
    {
        if (!OperatingSystem.IsLinux())
        {
            Console.Error.WriteLine($"This benchmark needs Linux ({needs}).");
            return 2;
        }

        if (args.Contains("-h") || args.Contains("--help"))
        {
            Console.WriteLine(usage);
            return 0;
        }

        return null;
    }

    /// <summary>The value that follows option <paramref name="name"/>, or null when it is not given.</summary>
    public string? Option(string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

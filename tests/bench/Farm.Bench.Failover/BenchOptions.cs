namespace Farm.Bench.Failover;

/// <summary>What the benchmark runs (command-line options; every default documented).</summary>
internal sealed record BenchOptions
{
    /// <summary><c>--repetitions</c>: repetitions of each failure kind per timing. Default 10.</summary>
    public int Repetitions { get; init; } = 10;

    /// <summary><c>--timing</c>: default, fast or both. Default both.</summary>
    public IReadOnlyList<TimingSettings> Timings { get; init; } = [TimingSettings.Default, TimingSettings.Fast];

    /// <summary><c>--kinds</c>: comma-separated kill, link, stop. Default all three.</summary>
    public IReadOnlyList<FailureKind> Kinds { get; init; } = [FailureKind.Kill, FailureKind.LinkDown, FailureKind.Stop];

    /// <summary>
    /// <c>--policy</c>: split-brain policy, majority or witness (none would let an isolated node serve everything, by
    /// design, so a link-down would end with two nodes answering). Default majority.
    /// </summary>
    public Farm.Core.Config.SplitBrainPolicy Policy { get; init; } = Farm.Core.Config.SplitBrainPolicy.Majority;

    /// <summary><c>--clients</c>: client addresses. Default 200.</summary>
    public int Clients { get; init; } = 200;

    /// <summary><c>--period-ms</c>: each client address opens a new connection this often. Default 10 ms.</summary>
    public TimeSpan Period { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>An attempt without an answer is abandoned after this long (its SYN was dropped). 250 ms.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Load before the failure. 1 s.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long the link stays down and farmd stopped; how long a killed node may stay dead at most. 5 s.</summary>
    public TimeSpan Outage { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Load kept after the farm settled again with all nodes (to see the rejoin). 1 s.</summary>
    public TimeSpan Cooldown { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The load of one repetition ends by itself after this long, whatever happens. 60 s.</summary>
    public TimeSpan MaxLoad { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Two changes of the answering node of one client within this window mean two nodes served it at overlapping times. 1 s.</summary>
    public TimeSpan FlipWindow { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A client of a surviving node counts as interrupted when it went this long without an answer. 250 ms.</summary>
    public TimeSpan BystanderGap { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary><c>--hogs</c>: busy loops (one shell process each, normal priority) running for the whole run. Default 0.</summary>
    public int Hogs { get; init; }

    /// <summary><c>--farmd</c>: the farmd the nodes run (a farmd.dll or a published farmd). Default: the build output next to the benchmark.</summary>
    public string FarmdPath { get; init; } = FarmdOptions.DefaultFarmdPath;

    /// <summary><c>--out</c>: the results file. Default tests/bench/results/failover.md.</summary>
    public string OutFile { get; init; } = "tests/bench/results/failover.md";
}

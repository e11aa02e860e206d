namespace Farm.Daemon.Diagnostics;

/// <summary>
/// A diagnostic for the false-positive benchmark (tests/bench/membership/soak.sh), off unless
/// <c>FARM_DIAG_FORCED_GC_MS</c> is set: a background thread churns garbage and forces a full, blocking, compacting
/// GC at that interval, so the heartbeat thread is exercised against stop-the-world pauses. Never set it in production.
/// </summary>
internal static class ForcedGcLoop
{
    public const string Variable = "FARM_DIAG_FORCED_GC_MS";

    /// <summary>Starts the loop when the variable holds a positive number of milliseconds; returns whether it started.</summary>
    public static bool StartIfRequested(TextWriter log, TimeProvider time)
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable(Variable), NumberStyles.None, CultureInfo.InvariantCulture, out int ms) || ms <= 0)
        {
            return false;
        }

        var thread = new Thread(() => Run(TimeSpan.FromMilliseconds(ms), log, time)) { IsBackground = true, Name = "farm-diag-gc" };
        thread.Start();
        log.WriteLine($"{Variable}={ms}: forcing a full blocking GC every {ms} ms (diagnostic; never in production)");
        return true;
    }

    private static void Run(TimeSpan interval, TextWriter log, TimeProvider time)
    {
        var keep = new List<byte[]>();
        long collections = 0;
        long lastReport = time.GetTimestamp();
        using var tick = new AutoResetEvent(false);
        while (true)
        {
            // Churn: promote some objects to gen2 so each forced collection has real work, then drop half.
            for (int i = 0; i < 2000; i++)
            {
                keep.Add(new byte[512]);
            }

            if (keep.Count > 40_000)
            {
                keep.RemoveRange(0, keep.Count / 2);
            }

            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            collections++;
            if (time.GetElapsedTime(lastReport) >= TimeSpan.FromSeconds(10))
            {
                lastReport = time.GetTimestamp();
                log.WriteLine($"forced full GC: {collections} so far, total pause {GC.GetTotalPauseDuration().TotalMilliseconds:F0} ms");
            }

            tick.WaitOne(interval);
        }
    }
}

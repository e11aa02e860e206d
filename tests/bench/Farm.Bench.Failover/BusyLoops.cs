namespace Farm.Bench.Failover;

/// <summary>Busy loops that compete with the farm for the CPU (<c>--hogs</c>); killed on dispose.</summary>
internal sealed class BusyLoops : IDisposable
{
    private readonly List<Process> loops = [];

    private BusyLoops()
    {
    }

    public static BusyLoops Start(int count)
    {
        var hogs = new BusyLoops();
        for (int i = 0; i < count; i++)
        {
            hogs.loops.Add(Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "while :; do :; done"]) { UseShellExecute = false })
                ?? throw new InvalidOperationException("could not start a busy loop"));
        }

        return hogs;
    }

    public void Dispose()
    {
        foreach (var loop in loops)
        {
            try
            {
                loop.Kill();
                loop.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
                // already gone
            }

            loop.Dispose();
        }
    }
}

namespace Farm.DataPlane.Runtime;

/// <summary>
/// A background thread of its own that runs <c>tick</c> every <c>period</c>, or sooner when woken, until stopped. A
/// failing tick is handed to <c>failed</c> and the loop goes on. A dedicated thread rather than a timer, so ticks keep
/// their pace while the thread pool is busy.
/// </summary>
internal sealed class PeriodicThread : IDisposable
{
    private readonly string name;
    private readonly TimeSpan period;
    private readonly Action tick;
    private readonly Action<Exception> failed;
    private readonly AutoResetEvent wake = new(false);
    private volatile bool stopping;
    private Thread? thread;

    public PeriodicThread(string name, TimeSpan period, Action tick, Action<Exception> failed)
    {
        this.name = name ?? throw new ArgumentNullException(nameof(name));
        this.period = period;
        this.tick = tick ?? throw new ArgumentNullException(nameof(tick));
        this.failed = failed ?? throw new ArgumentNullException(nameof(failed));
    }

    public void Start()
    {
        thread = new Thread(Run) { IsBackground = true, Name = name };
        thread.Start();
    }

    /// <summary>Runs the next tick now instead of at the end of the period.</summary>
    public void Wake() => wake.Set();

    /// <summary>Ends the loop and waits for the thread (unless called from a tick).</summary>
    public void Stop()
    {
        stopping = true;
        wake.Set();
        if (thread is { } t && t != Thread.CurrentThread)
        {
            t.Join();
        }
    }

    public void Dispose()
    {
        Stop();
        wake.Dispose();
    }

    private void Run()
    {
        while (!stopping)
        {
            wake.WaitOne(period);
            if (stopping)
            {
                break;
            }

            try
            {
                tick();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failed(e);
            }
        }
    }
}

namespace Farm.DataPlane.Runtime;

/// <summary>
/// A background thread of its own that runs <c>tick</c> every <c>period</c>, or sooner when woken, until stopped. A tick
/// that returns false has nothing to watch: the thread then sleeps until woken (an idle node's thread costs no wake-ups;
/// each one is measurable CPU on a small VM). A failing tick is handed to <c>failed</c> and the loop goes on, with the
/// period. A dedicated thread rather than a timer, so ticks keep their pace while the thread pool is busy.
/// </summary>
internal sealed class PeriodicThread : IDisposable
{
    private readonly string name;
    private readonly TimeSpan period;
    private readonly Func<bool> tick;
    private readonly Action<Exception> failed;
    private readonly AutoResetEvent wake = new(false);
    private volatile bool stopping;
    private Thread? thread;

    public PeriodicThread(string name, TimeSpan period, Func<bool> tick, Action<Exception> failed)
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
        bool again = true;
        while (!stopping)
        {
            if (again)
            {
                wake.WaitOne(period);
            }
            else
            {
                wake.WaitOne();
            }

            if (stopping)
            {
                break;
            }

            try
            {
                again = tick();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failed(e);
                again = true;
            }
        }
    }
}

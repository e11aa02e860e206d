using System.Collections.Concurrent;

namespace Farm.Daemon.Transport;

/// <summary>
/// Tears down heartbeat streams and TCP connections (cancelling a stream, dropping a connection) one at a time on a
/// thread of its own, off the heartbeat thread and off the thread pool.
/// </summary>
/// <remarks>
/// Why not the pool: cancelling a stream or closing its socket runs the HTTP/2 client's and gRPC's failure handling on
/// the calling thread, and the first time in a process's life that means compiling it. Measured in the real-partition
/// tests (twenty-third session, Debug event logging of each item): one cancel or drop took 30-270 ms of wall time, a
/// third to two thirds of it compiling code on that thread, and items waited up to 260 ms for a pool thread. A node
/// drops its streams to every peer it lost at the same tick (patience: one call deadline), so two such items took both
/// pool threads of a 2-core node; the heartbeats and answers to the peers it still had waited behind them (their HTTP/2
/// writes run on the pool), and under <c>majority</c> those peers' leases lapsed for want of fresh answers. Here the
/// pool stays free for them; what waits is only the next teardown.
/// </remarks>
internal sealed partial class TeardownThread : IDisposable
{
    private readonly BlockingCollection<(Action<object> Work, object State)> queue = new();
    private readonly ILogger logger;
    private readonly Thread thread;

    public TeardownThread(ILogger logger)
    {
        this.logger = logger ?? throw new ArgumentNullException(nameof(logger));
        thread = new Thread(Run) { Name = "farm-teardown", IsBackground = true };
        thread.Start();
    }

    /// <summary>Runs <paramref name="work"/>(<paramref name="state"/>) on the teardown thread; after <see cref="Dispose"/>, on the caller's.</summary>
    public void Post<T>(Action<T> work, T state)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(state);
        Action<object> untyped = s => work((T)s);
        try
        {
            queue.Add((untyped, state));
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            Execute(untyped, state); // stopped: nothing else will run it
        }
    }

    /// <summary>Lets the queued work finish and stops the thread.</summary>
    public void Dispose()
    {
        queue.CompleteAdding();
        if (thread != Thread.CurrentThread)
        {
            thread.Join();
        }

        queue.Dispose();
    }

    private void Run()
    {
        foreach (var (work, state) in queue.GetConsumingEnumerable())
        {
            Execute(work, state);
        }
    }

    private void Execute(Action<object> work, object state)
    {
        try
        {
            work(state);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.Failed(logger, e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 312, Level = LogLevel.Warning, Message = "Tearing down a heartbeat stream or connection failed")]
        public static partial void Failed(ILogger logger, Exception exception);
    }
}

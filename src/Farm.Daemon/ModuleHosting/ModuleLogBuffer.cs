using Farm.Core.Text;

namespace Farm.Daemon.ModuleHosting;

/// <summary>
/// The most recent log lines of one module (a ring of <see cref="Capacity"/> lines) for <c>farmctl logs</c>, with a
/// wake-up for followers. Thread-safe; appending never blocks on readers.
/// </summary>
internal sealed class ModuleLogBuffer
{
    /// <summary>Default of <see cref="Capacity"/>.</summary>
    public const int DefaultCapacity = 2000;

    private readonly Lock gate = new();
    private readonly ModuleLogLine?[] ring;
    private readonly Action<ModuleLogLine>? sink;
    private long lastSeq;
    private TaskCompletionSource appended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates an empty buffer; <paramref name="sink"/> also gets every line (e.g. the module's log file), in order.</summary>
    public ModuleLogBuffer(string module, int capacity = DefaultCapacity, Action<ModuleLogLine>? sink = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Module = module;
        ring = new ModuleLogLine?[capacity];
        this.sink = sink;
    }

    /// <summary>The module.</summary>
    public string Module { get; }

    /// <summary>Lines kept.</summary>
    public int Capacity => ring.Length;

    /// <summary>The seq of the newest line; 0 before the first.</summary>
    public long LastSeq
    {
        get
        {
            lock (gate)
            {
                return lastSeq;
            }
        }
    }

    /// <summary>Longest line kept (longer ones are cut): script output is capped before, but exception texts are not.</summary>
    public const int MaxLineLength = 8192;

    /// <summary>
    /// Adds a line (a multi-line text stays one line, its line ends written out) and wakes the followers. The text is
    /// made printable: the buffer feeds <c>farmctl logs</c> and the module's log file, and a script's escape sequences
    /// must reach neither a terminal nor a log viewer as such.
    /// </summary>
    public void Append(DateTimeOffset time, LogLevel level, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = PrintableText.Neutralize(text, MaxLineLength);
        TaskCompletionSource wake;
        lock (gate)
        {
            var line = new ModuleLogLine(++lastSeq, time, level, text);
            ring[(int)((line.Seq - 1) % ring.Length)] = line;
            wake = appended;
            appended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

            // Under the lock, so the file has the lines in seq order.
            sink?.Invoke(line);
        }

        wake.TrySetResult();
    }

    /// <summary>The newest <paramref name="count"/> lines (all kept ones when larger), oldest first.</summary>
    public IReadOnlyList<ModuleLogLine> Tail(int count)
    {
        lock (gate)
        {
            long first = Math.Max(Math.Max(1, lastSeq - ring.Length + 1), lastSeq - Math.Max(0, count) + 1);
            return Range(first, int.MaxValue);
        }
    }

    /// <summary>Up to <paramref name="max"/> lines newer than <paramref name="afterSeq"/>, oldest first, and how many were lost to the ring in between.</summary>
    public (IReadOnlyList<ModuleLogLine> Lines, long Dropped) Since(long afterSeq, int max)
    {
        lock (gate)
        {
            long oldest = Math.Max(1, lastSeq - ring.Length + 1);
            long first = Math.Max(afterSeq + 1, oldest);
            return (Range(first, max), first - (afterSeq + 1));
        }
    }

    /// <summary>Completes once a line newer than <paramref name="afterSeq"/> exists.</summary>
    public Task WaitAsync(long afterSeq, CancellationToken cancellationToken)
    {
        Task wait;
        lock (gate)
        {
            if (lastSeq > afterSeq)
            {
                return Task.CompletedTask;
            }

            wait = appended.Task;
        }

        return wait.WaitAsync(cancellationToken);
    }

    private List<ModuleLogLine> Range(long first, int max)
    {
        var lines = new List<ModuleLogLine>();
        for (long seq = first; seq <= lastSeq && lines.Count < max; seq++)
        {
            lines.Add(ring[(int)((seq - 1) % ring.Length)]!);
        }

        return lines;
    }
}

namespace Farm.Daemon.Envelopes;

/// <summary>
/// Sliding replay windows, one per sender for its newest run (incarnation). A seq is accepted once, and only if it is
/// newer than <see cref="WindowSize"/> seqs behind the highest seen: messages may be reordered within the window
/// (concurrent HTTP/2 streams), never repeated. Thread-safe.
/// </summary>
internal sealed class ReplayGuard
{
    /// <summary>How far behind the highest seq a message may arrive.</summary>
    public const int WindowSize = 1024;

    private readonly Lock gate = new();
    private readonly Dictionary<string, Window> windows = new(StringComparer.Ordinal);
    private readonly int maxSenders;
    private long useCounter;

    /// <summary>Creates a guard that tracks at most <paramref name="maxSenders"/> senders (the least recently used is forgotten).</summary>
    public ReplayGuard(int maxSenders = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSenders);
        this.maxSenders = maxSenders;
    }

    /// <summary>The newest run heard from <paramref name="sender"/>, or 0.</summary>
    public long IncarnationOf(string sender)
    {
        lock (gate)
        {
            return windows.TryGetValue(sender, out var w) ? w.Incarnation : 0;
        }
    }

    /// <summary>Records the message and returns null when it is new, or why it is refused. Call only for authentic messages.</summary>
    public RejectReason? Accept(string sender, long incarnation, ulong seq)
    {
        lock (gate)
        {
            if (!windows.TryGetValue(sender, out var window))
            {
                if (windows.Count >= maxSenders)
                {
                    EvictLeastRecentlyUsed();
                }

                window = new Window(incarnation);
                windows[sender] = window;
            }
            else if (incarnation < window.Incarnation)
            {
                return RejectReason.OldIncarnation;
            }
            else if (incarnation > window.Incarnation)
            {
                window.Reset(incarnation); // a restart: the new run counts from 1 again
            }

            window.LastUsed = ++useCounter;
            return window.Accept(seq) ? null : RejectReason.Replayed;
        }
    }

    private void EvictLeastRecentlyUsed()
    {
        string? oldest = null;
        long oldestUse = long.MaxValue;
        foreach (var (name, w) in windows)
        {
            if (w.LastUsed < oldestUse)
            {
                oldest = name;
                oldestUse = w.LastUsed;
            }
        }

        if (oldest is not null)
        {
            windows.Remove(oldest);
        }
    }

    private sealed class Window(long incarnation)
    {
        // Bit i of the bitmap is seq (highest - i).
        private readonly ulong[] bits = new ulong[WindowSize / 64];
        private ulong highest;

        public long Incarnation { get; private set; } = incarnation;

        public long LastUsed { get; set; }

        public void Reset(long newIncarnation)
        {
            Incarnation = newIncarnation;
            highest = 0;
            Array.Clear(bits);
        }

        public bool Accept(ulong seq)
        {
            if (seq > highest)
            {
                Shift(seq - highest);
                highest = seq;
                Set(0);
                return true;
            }

            ulong behind = highest - seq;
            if (behind >= WindowSize || IsSet((int)behind))
            {
                return false;
            }

            Set((int)behind);
            return true;
        }

        private void Shift(ulong by)
        {
            if (by >= WindowSize)
            {
                Array.Clear(bits);
                return;
            }

            int words = (int)(by / 64);
            int shift = (int)(by % 64);
            for (int i = bits.Length - 1; i >= 0; i--)
            {
                int from = i - words;
                ulong value = from >= 0 ? bits[from] << shift : 0;
                if (shift != 0 && from - 1 >= 0)
                {
                    value |= bits[from - 1] >> (64 - shift);
                }

                bits[i] = value;
            }
        }

        private bool IsSet(int index) => (bits[index / 64] & (1UL << (index % 64))) != 0;

        private void Set(int index) => bits[index / 64] |= 1UL << (index % 64);
    }
}

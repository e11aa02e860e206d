namespace Farm.Daemon.Transport;

/// <summary>
/// Heartbeat round trips per peer and LAN as the transport sees them (seal, HTTP/2, the peer's handling, open): the last
/// <see cref="Capacity"/> samples each, for status and benchmarks. Thread-safe; recording is a few stores under a lock.
/// </summary>
internal sealed class RoundTrips
{
    /// <summary>Samples kept per peer and LAN (about 25 s at the default 50 ms interval).</summary>
    public const int Capacity = 512;

    private readonly Lock gate = new();
    private readonly Dictionary<(string Peer, int Lan), Ring> rings = [];

    /// <summary>Also told of every sample, outside the lock (the metrics' cumulative histogram); set once at start-up.</summary>
    public Action<string, int, TimeSpan>? Observer { get; set; }

    /// <summary>Records one successful heartbeat exchange with <paramref name="peer"/> on <paramref name="lan"/>.</summary>
    public void Record(string peer, int lan, TimeSpan roundTrip)
    {
        lock (gate)
        {
            if (!rings.TryGetValue((peer, lan), out var ring))
            {
                rings[(peer, lan)] = ring = new Ring();
            }

            ring.Add((float)roundTrip.TotalMicroseconds);
        }

        Observer?.Invoke(peer, lan, roundTrip);
    }

    /// <summary>The median and 99th percentile in microseconds and the sample count; (0, 0, 0) without samples.</summary>
    public (double P50, double P99, int Count) Of(string peer, int lan)
    {
        float[] samples;
        lock (gate)
        {
            if (!rings.TryGetValue((peer, lan), out var ring) || ring.Count == 0)
            {
                return (0, 0, 0);
            }

            samples = ring.ToArray();
        }

        Array.Sort(samples);
        double At(double q) => samples[Math.Min(samples.Length - 1, (int)Math.Ceiling(q * samples.Length) - 1)];
        return (At(0.5), At(0.99), samples.Length);
    }

    private sealed class Ring
    {
        private readonly float[] values = new float[Capacity];
        private int next;

        public int Count { get; private set; }

        public void Add(float value)
        {
            values[next] = value;
            next = (next + 1) % Capacity;
            Count = Math.Min(Count + 1, Capacity);
        }

        public float[] ToArray() => values[..Count];
    }
}

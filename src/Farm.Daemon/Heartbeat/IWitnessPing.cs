namespace Farm.Daemon.Heartbeat;

/// <summary>One reachability probe of the split-brain witness (ICMP echo in farmd, a fake in tests).</summary>
internal interface IWitnessPing : IDisposable
{
    /// <summary>True when <paramref name="address"/> answered within <paramref name="timeout"/>; blocks at most that long.</summary>
    bool Probe(IPAddress address, TimeSpan timeout);
}

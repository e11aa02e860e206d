namespace Farm.Daemon.Heartbeat;

/// <summary>The newest heartbeat served per sender and run (envelope seqs grow with every message a run seals).</summary>
internal sealed class HeartbeatOrder
{
    private readonly Dictionary<string, (long Run, ulong Seq)> newest = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    /// <summary>True, and noted, unless a later heartbeat of <paramref name="sender"/>'s run <paramref name="run"/> was seen.</summary>
    public bool IsNewest(string sender, long run, ulong seq)
    {
        lock (gate)
        {
            if (newest.TryGetValue(sender, out var last) && last.Run == run && last.Seq > seq)
            {
                return false;
            }

            newest[sender] = (run, seq);
            return true;
        }
    }
}

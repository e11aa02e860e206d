namespace Farm.Cluster.Membership;

/// <summary>
/// When this process did not run: a gap between two moments it was seen running (a tick, a poll, a message read) longer
/// than two heartbeat intervals is a stall (SIGSTOP, a loaded machine, a long GC pause), from one interval after the
/// earlier moment to the later one. A peer's silence is counted over the time this node ran (<see cref="Silence"/>): a
/// node that stalled did not hear its peers because it did not run, not because they died. Messages count as running
/// so that a heartbeat thread held up while the rest of the process ran and read its peers' heartbeats is no stall:
/// a peer that dies meanwhile is detected on time.
/// </summary>
/// <remarks>
/// After a stall the heartbeat thread, of a higher priority, runs before the threads that read the sockets where the
/// peers' heartbeats wait. Counted in wall time, every peer then looked silent for longer than the detection timeout:
/// under policy none the node formed a view of its own, whose higher id made it the base of the farm's next view, and
/// every node that never left counted a rejoin and deleted the conntrack entries of all it served (CI dry run,
/// 2026-12-05: 492 of 600 sessions reset). A peer that died during the stall is detected one stall later, at most.
/// Proof of life (<see cref="PeerMonitor.Vouches"/>) stays in wall time: what waited in the sockets proves nothing new.
/// </remarks>
internal sealed class StallLedger(TimeSpan interval, TimeSpan detectionTimeout)
{
    private const int MaxKept = 64;
    private readonly Queue<(TimeSpan From, TimeSpan To)> stalls = new();
    private TimeSpan lastRun = TimeSpan.MinValue;

    /// <summary>This process was seen running at <paramref name="now"/> (a tick, a poll, a message read).</summary>
    public void NoteRunning(TimeSpan now)
    {
        if (lastRun != TimeSpan.MinValue && now - lastRun > 2 * interval)
        {
            stalls.Enqueue((lastRun + interval, now));
        }

        lastRun = Max(lastRun, now);

        // Older stalls can no longer bring a silence under the detection timeout: this node ran that long since.
        while (stalls.Count > MaxKept || (stalls.Count > 0 && now - stalls.Peek().To > 8 * detectionTimeout))
        {
            stalls.Dequeue();
        }
    }

    /// <summary>How long this node ran from <paramref name="since"/> to <paramref name="now"/>: the time between, less the stalls.</summary>
    public TimeSpan Silence(TimeSpan since, TimeSpan now)
    {
        var silence = now - since;
        foreach (var (from, to) in stalls)
        {
            var overlap = Min(to, now) - Max(from, since);
            if (overlap > TimeSpan.Zero)
            {
                silence -= overlap;
            }
        }

        return silence;
    }

    /// <summary>True when <paramref name="last"/> (MinValue = never) lies within <paramref name="window"/> of this node's running time before <paramref name="now"/>.</summary>
    public bool Within(TimeSpan last, TimeSpan now, TimeSpan window) => last != TimeSpan.MinValue && Silence(last, now) < window;

    /// <summary>When the running time since <paramref name="last"/> reaches <paramref name="window"/>, unless this node stalls again.</summary>
    public TimeSpan Deadline(TimeSpan last, TimeSpan now, TimeSpan window) => last + window + (now - last - Silence(last, now));

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}

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
/// <para>
/// The same holds when only the readers stall: the heartbeat thread runs at real-time priority while the threads that
/// read the sockets (and write the heartbeats) are ordinary ones, so a starved process keeps ticking and hears nobody.
/// The host probes its readers when a peer is late (<see cref="NoteReaders"/>): the time a probe waited to run is a stall
/// too. Its peers stop hearing it meanwhile and remove it; it removes nobody and forms no view of its own (CI,
/// 2026-12-05: a farmd starved right after it joined formed a view alone under policy none, claimed every bucket and
/// reset 297 of 600 sessions).
/// </para>
/// </remarks>
internal sealed class StallLedger(TimeSpan interval, TimeSpan detectionTimeout)
{
    private const int MaxKept = 64;
    private readonly Queue<(TimeSpan From, TimeSpan To)> stalls = new();
    private TimeSpan lastRun = TimeSpan.MinValue;
    private readonly List<(TimeSpan From, TimeSpan To)> overlaps = []; // Silence's scratch list
    private TimeSpan? readersWaitingSince;
    private TimeSpan lastProbeNoted = TimeSpan.MinValue;

    /// <summary>
    /// The latest moment this process's readers are known to have run: a message read (<see cref="NoteRead"/>) or a probe
    /// that ran (<see cref="NoteReaders"/>); null before either.
    /// </summary>
    public TimeSpan? ReadersRanAt { get; private set; }

    /// <summary>A message was read at <paramref name="now"/>: this process ran, its readers too.</summary>
    public void NoteRead(TimeSpan now)
    {
        NoteRunning(now);
        if (ReadersRanAt is not { } ran || now > ran)
        {
            ReadersRanAt = now;
        }
    }

    /// <summary>
    /// What the host's probe of its readers showed (<see cref="MembershipManager.NoteReaders"/>): since when a probe waits
    /// to run (null: none waits), and when the latest one that ran was queued and ran. A probe that still waits is a stall
    /// of the readers until now (nothing proves they ran since it was queued); one that ran after waiting an interval or
    /// more stays one, from its queueing to its run (a shorter wait is the pool's ordinary latency, not kept).
    /// </summary>
    public void NoteReaders(TimeSpan? waitingSince, TimeSpan? lastQueued, TimeSpan? lastRan)
    {
        readersWaitingSince = waitingSince;
        if (lastQueued is { } queued && lastRan is { } ran && queued > lastProbeNoted)
        {
            lastProbeNoted = queued;
            if (ReadersRanAt is not { } known || ran > known)
            {
                ReadersRanAt = ran;
            }

            if (ran - queued >= interval)
            {
                stalls.Enqueue((queued, ran));
            }
        }
    }

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

    /// <summary>
    /// How long this node ran from <paramref name="since"/> to <paramref name="now"/>: the time between, less the stalls
    /// (of the process and of its readers, which may overlap: each moment is taken off once).
    /// </summary>
    public TimeSpan Silence(TimeSpan since, TimeSpan now)
    {
        var silence = now - since;
        if (stalls.Count == 0 && !ReadersStalled(now))
        {
            return silence;
        }

        overlaps.Clear();
        foreach (var (from, to) in stalls)
        {
            Clip(from, to);
        }

        if (ReadersStalled(now))
        {
            Clip(readersWaitingSince!.Value, now);
        }

        overlaps.Sort(static (a, b) => a.From.CompareTo(b.From));
        TimeSpan covered = TimeSpan.MinValue; // the end of the union so far
        foreach (var (from, to) in overlaps)
        {
            var start = Max(from, covered);
            if (to > start)
            {
                silence -= to - start;
                covered = to;
            }
        }

        return silence;

        void Clip(TimeSpan from, TimeSpan to)
        {
            if (Min(to, now) > Max(from, since))
            {
                overlaps.Add((Max(from, since), Min(to, now)));
            }
        }
    }

    /// <summary>True when a probe of the readers waits since before <paramref name="now"/>.</summary>
    private bool ReadersStalled(TimeSpan now) => readersWaitingSince is { } waiting && now > waiting;

    /// <summary>True when <paramref name="last"/> (MinValue = never) lies within <paramref name="window"/> of this node's running time before <paramref name="now"/>.</summary>
    public bool Within(TimeSpan last, TimeSpan now, TimeSpan window) => last != TimeSpan.MinValue && Silence(last, now) < window;

    /// <summary>When the running time since <paramref name="last"/> reaches <paramref name="window"/>, unless this node stalls again.</summary>
    public TimeSpan Deadline(TimeSpan last, TimeSpan now, TimeSpan window) => last + window + (now - last - Silence(last, now));

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}

using Farm.Core.Config;

namespace Farm.Cluster.Membership;

/// <summary>
/// Under split-brain policy witness: when this node last reached the witness, and since when it has held it without
/// a gap. The lease keeper and the coordinator both ask it; the heartbeats tell the peers when it is lost.
/// </summary>
internal sealed class WitnessMonitor(MembershipOptions options)
{
    private TimeSpan reachedAt = TimeSpan.MinValue;
    private TimeSpan streakStart = TimeSpan.MinValue;

    /// <summary>The witness answered a probe sent at <paramref name="probeStart"/>.</summary>
    public void Reached(TimeSpan probeStart)
    {
        if (probeStart <= reachedAt)
        {
            return;
        }

        if (reachedAt == TimeSpan.MinValue || probeStart - reachedAt > options.FreshnessWindow)
        {
            streakStart = probeStart; // the witness was lost in between: a new streak begins
        }

        reachedAt = probeStart;
    }

    /// <summary>Under policy witness, true when this node has not reached the witness within the freshness window.</summary>
    public bool Lost(TimeSpan now) =>
        options.SplitBrainPolicy == SplitBrainPolicy.Witness && reachedAt < now - options.FreshnessWindow;

    /// <summary>True when the witness is held now and has been, without a gap, for at least <paramref name="duration"/>.</summary>
    public bool HeldFor(TimeSpan duration, TimeSpan now) => !Lost(now) && now - streakStart >= duration;
}

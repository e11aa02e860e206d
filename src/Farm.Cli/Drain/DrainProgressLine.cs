using Farm.Cli.Status;
using Farm.Protocol.V1;

namespace Farm.Cli.Drain;

/// <summary>A node's hand-over progress over all its modules, as the node itself reports it.</summary>
/// <param name="Owned">Buckets its installed view still gives it.</param>
/// <param name="Incoming">Buckets it takes over.</param>
/// <param name="Draining">Buckets it hands over and still serves connections of.</param>
/// <param name="OldestDrainMs">Age of its oldest drain, or null.</param>
internal sealed record DrainProgressLine(int Owned, int Incoming, int Draining, long? OldestDrainMs)
{
    public static DrainProgressLine Of(DrainAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return new DrainProgressLine(answer.Owned, answer.Incoming, answer.Draining, answer.HasOldestDrainAgeMs ? answer.OldestDrainAgeMs : null);
    }

    /// <summary>"341 buckets owned, 0 incoming, 12 draining (oldest drain 2.0s)".</summary>
    public string Describe()
    {
        var c = CultureInfo.InvariantCulture;
        string text = $"{Owned.ToString(c)} bucket{(Owned == 1 ? "" : "s")} owned, {Incoming.ToString(c)} incoming, {Draining.ToString(c)} draining";

        // The age grows all the time: rounded to seconds, so that a progress line is printed on a change, not every poll.
        return OldestDrainMs is { } age ? text + $" (oldest drain {StatusFormat.Age(age / 1000 * 1000)})" : text;
    }
}

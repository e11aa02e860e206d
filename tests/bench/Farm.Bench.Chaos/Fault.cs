namespace Farm.Bench.Chaos;

/// <summary>One injected fault: what, where, when it started and ended (on the soak's clock), and whether it went wrong.</summary>
internal sealed class Fault
{
    public required int Number { get; init; }

    public required FaultKind Kind { get; init; }

    /// <summary>The nodes it takes out (none for LAN loss, which must change nothing).</summary>
    public required int[] Nodes { get; init; }

    /// <summary>The heartbeat LAN (LAN loss).</summary>
    public int Lan { get; init; }

    public required TimeSpan Hold { get; init; }

    /// <summary>When the injection was in place.</summary>
    public TimeSpan Start { get; set; }

    /// <summary>When the fault was over (the node back: process resumed or ready, link up, rules removed, app listening, flag gone).</summary>
    public TimeSpan? End { get; set; }

    /// <summary>Whether another fault was active when this one started.</summary>
    public bool Overlapping { get; init; }

    /// <summary>Why injecting or ending it failed, or null.</summary>
    public string? Error { get; set; }

    /// <summary>Its end under way (see <c>SoakRunner</c>), or null.</summary>
    public Task? Ending { get; set; }

    /// <summary>The flapping checker's toggling loop.</summary>
    public Task? Flapper { get; set; }

    public CancellationTokenSource? FlapStop { get; set; }

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"#{Number} {Kind} on [{string.Join(",", Nodes.Select(FarmFixture.NodeName))}]{(Kind == FaultKind.LanLoss ? $" LAN {Lan}" : string.Empty)} hold {Hold.TotalMilliseconds:F0} ms");
}

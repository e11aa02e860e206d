namespace Farm.Cluster.Membership;

/// <summary>
/// One module's hand-over progress on one node, for status: buckets it is taking over (claimed or incoming), buckets
/// it is handing over (draining, still tracking connections) and how long the oldest of those drains has run.
/// </summary>
/// <param name="Module">Module name.</param>
/// <param name="Incoming">Buckets the node is taking over while their previous owner drains them.</param>
/// <param name="Draining">Buckets the node is handing over and still serves established connections of.</param>
/// <param name="OldestDrainAge">Age of the oldest drain in progress, or null when nothing drains.</param>
public sealed record ModuleDrainStatus(string Module, int Incoming, int Draining, TimeSpan? OldestDrainAge);

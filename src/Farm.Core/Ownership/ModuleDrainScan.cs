using System.Collections.Immutable;

namespace Farm.Core.Ownership;

/// <summary>
/// What the data plane found for one module after it applied an ownership snapshot: which of the snapshot's draining
/// buckets still track live connections, and the encoded UDP flows among them.
/// </summary>
/// <param name="Busy">Draining buckets with at least one live connection.</param>
/// <param name="Flows">The live UDP flows in draining buckets (may be empty).</param>
public sealed record ModuleDrainScan(IReadOnlySet<int> Busy, ImmutableArray<FlowKey> Flows);

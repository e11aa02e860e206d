namespace Farm.Bench.Chaos;

/// <summary>An invariant the soak saw broken: when (on the soak's clock), which invariant, and the evidence.</summary>
internal sealed record Violation(TimeSpan At, string Invariant, string Detail);

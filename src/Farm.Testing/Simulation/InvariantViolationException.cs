namespace Farm.Testing.Simulation;

/// <summary>Thrown when the farm breaks an invariant; the message names the seed so the run can be replayed.</summary>
public sealed class InvariantViolationException(string message) : Exception(message);

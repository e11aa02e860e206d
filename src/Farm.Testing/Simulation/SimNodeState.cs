namespace Farm.Testing.Simulation;

/// <summary>Process state of a simulated node.</summary>
public enum SimNodeState
{
    Up,
    Paused,
    Crashed,
}

namespace Farm.DataPlane.Runtime;

/// <summary>A module's data plane as status reports it.</summary>
/// <param name="Module">The module.</param>
/// <param name="State">Where it stands.</param>
/// <param name="Reason">Why it failed (start) or what last went wrong (apply, lease); null when all is well.</param>
/// <param name="AppliedVersion">The ownership snapshot version last applied to the kernel; -1 before the first.</param>
/// <param name="AppliedEpoch">The view epoch of that snapshot; 0 before the first view.</param>
public sealed record ModuleDataPlaneStatus(string Module, ModuleDataPlaneState State, string? Reason, long AppliedVersion, long AppliedEpoch);

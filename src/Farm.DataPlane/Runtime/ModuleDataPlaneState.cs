namespace Farm.DataPlane.Runtime;

/// <summary>Where a module's data plane stands on this node.</summary>
public enum ModuleDataPlaneState
{
    /// <summary>Not started yet.</summary>
    Pending,

    /// <summary>Filter, VIPs and responder run; the module is ready for buckets.</summary>
    Running,

    /// <summary>Could not start (see the reason); the module takes no buckets on this node.</summary>
    Failed,

    /// <summary>Stopped and cleaned up.</summary>
    Stopped,
}

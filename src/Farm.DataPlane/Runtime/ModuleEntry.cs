using Farm.Core.Config;

namespace Farm.DataPlane.Runtime;

/// <summary>What <see cref="DataPlaneHost"/> knows of one module's data plane: its runtime, state, and what it applied.</summary>
internal sealed class ModuleEntry(ModuleConfig config)
{
    public ModuleConfig Config { get; } = config;

    public IModuleDataPlane? Plane { get; set; }

    public ModuleDataPlaneState State { get; set; } = ModuleDataPlaneState.Pending;

    public string? Reason { get; set; }

    public long AppliedVersion { get; set; } = -1;

    public long AppliedEpoch { get; set; }

    /// <summary>The kernel refused the last apply or lease refresh: no lease until a reinstall and an apply succeed.</summary>
    public bool KernelFailing { get; set; }

    /// <summary>False keeps every bucket out of the kernel (a single module before start_prim succeeded).</summary>
    public bool Accepting { get; set; } = config.Mode != ModuleMode.Single;
}

using Farm.Core.Config;

namespace Farm.DataPlane.Runtime;

/// <summary>Creates module data planes and cleans up after crashed runs (the kernel backend, or a fake in tests).</summary>
public interface IDataPlaneBackend
{
    /// <summary>Null when the data plane can run here; otherwise what is missing and how to fix it.</summary>
    string? MissingPrerequisite();

    /// <summary>Removes whatever a crashed run left (filter tables, VIP changes); returns a description of each removal.</summary>
    IReadOnlyList<string> RemoveLeftovers();

    /// <summary>Creates (does not start) the data plane of <paramref name="module"/>.</summary>
    IModuleDataPlane Create(ModuleConfig module);
}

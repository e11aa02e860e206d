using System.Runtime.InteropServices;
using Farm.Testing.Network;

namespace Farm.DataPlane.Tests.Kernel;

/// <summary>Skips (or, with FARM_E2E_REQUIRED=1, fails) a kernel test whose machine cannot run it.</summary>
internal static class Requirements
{
    /// <summary>Set to 1 on machines that must run these tests: a missing requirement then fails instead of skipping.</summary>
    public const string RequiredVariable = "FARM_E2E_REQUIRED";

    private static readonly Lazy<Task<string?>> Missing = new(ProbeAsync);

    /// <summary>Returns when namespaces, nft, libnftables and libpcap are usable; otherwise skips or fails the test.</summary>
    public static async Task KernelAsync()
    {
        string? missing = await Missing.Value;
        if (missing is null)
        {
            return;
        }

        if (Environment.GetEnvironmentVariable(RequiredVariable) == "1")
        {
            Assert.Fail($"{missing} ({RequiredVariable}=1 forbids skipping.)");
        }

        Assert.Inconclusive(missing);
    }

    private static async Task<string?> ProbeAsync()
    {
        string? missing = await NamespaceSupport.GetMissingRequirementAsync(needNft: true);
        if (missing is not null)
        {
            return missing;
        }

        foreach (var (library, package) in new[] { ("libnftables.so.1", "libnftables1"), ("libpcap.so.0.8", "libpcap0.8") })
        {
            if (!NativeLibrary.TryLoad(library, out var handle))
            {
                return $"{library} cannot be loaded: install the Debian package {package} (installer/deps.sh does).";
            }

            NativeLibrary.Free(handle);
        }

        return null;
    }
}

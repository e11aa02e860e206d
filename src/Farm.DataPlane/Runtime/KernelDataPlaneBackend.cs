using System.Runtime.InteropServices;
using Farm.Core.Config;
using Farm.DataPlane.Addressing;
using Farm.DataPlane.Filtering;
using Microsoft.Extensions.Logging;

namespace Farm.DataPlane.Runtime;

/// <summary>The real data plane: libnftables, <c>ip</c>/<c>bridge</c>, /proc/sys and libpcap; Linux and root only.</summary>
public sealed class KernelDataPlaneBackend(string stateDirectory, TimeProvider timeProvider, ILoggerFactory loggerFactory) : IDataPlaneBackend
{
    private const string StateFilePrefix = "vip-";
    private const string StateFileSuffix = ".json";

    public string? MissingPrerequisite()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "the data plane needs Linux (use --data-plane off to run membership only)";
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return "the data plane needs root (nftables, addresses, sysctls, raw frames): run farmd as root, or with --data-plane off for membership only";
        }

        foreach (var (library, package) in new[] { ("libnftables.so.1", "libnftables1"), ("libpcap.so.0.8", "libpcap0.8") })
        {
            if (!NativeLibrary.TryLoad(library, out var handle))
            {
                return $"{library} cannot be loaded: install the Debian package {package} (installer/deps.sh does)";
            }

            NativeLibrary.Free(handle);
        }

        return null;
    }

    public IReadOnlyList<string> RemoveLeftovers()
    {
        if (!OperatingSystem.IsLinux())
        {
            return [];
        }

        var removed = new List<string>();

        // Tables first: while a crashed run's table is there, its (lapsed) lease makes it drop all VIP traffic.
        using (var sweeper = new NftablesPacketFilter(loggerFactory.CreateLogger<NftablesPacketFilter>()))
        {
            removed.AddRange(sweeper.RemoveLeftoverTables().Select(t => "nft table " + t));
        }

        // VIP changes of every module with a state file, also of modules no longer configured.
        if (Directory.Exists(stateDirectory))
        {
            var manager = new VipManager(stateDirectory, loggerFactory.CreateLogger<VipManager>());
            foreach (string file in Directory.GetFiles(stateDirectory, StateFilePrefix + "*" + StateFileSuffix).Order(StringComparer.Ordinal))
            {
                string name = Path.GetFileName(file)[StateFilePrefix.Length..^StateFileSuffix.Length];
                if (manager.RecoverLeftovers(name))
                {
                    removed.Add($"VIP changes of module {name}");
                }
            }
        }

        return removed;
    }

    public IModuleDataPlane Create(ModuleConfig module) => OperatingSystem.IsLinux()
        ? new KernelModuleDataPlane(module, stateDirectory, timeProvider, loggerFactory)
        : throw new PlatformNotSupportedException("The kernel data plane needs Linux.");
}

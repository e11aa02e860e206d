using System.Net;

namespace Farm.Core.Config;

/// <summary>
/// Checks between files that each passed on its own: what the data plane would refuse only once several modules run on
/// one node (a VIP bound twice on <c>lo</c>) or what would break membership (a VIP that is also a node's address).
/// </summary>
public static class ConfigCrossCheck
{
    /// <summary>Every problem, located at the start of the later file (the model keeps no positions).</summary>
    /// <param name="cluster">The cluster file and its name, or null when none was given.</param>
    /// <param name="modules">The module files and their names, in the order given.</param>
    public static IReadOnlyList<ConfigError> Check((string File, ClusterConfig Config)? cluster, IReadOnlyList<(string File, ModuleConfig Config)> modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        var errors = new List<ConfigError>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var vips = new Dictionary<IPAddress, (string File, string Module)>();
        var nodeAddresses = new Dictionary<IPAddress, string>();
        foreach (var node in cluster?.Config.Nodes ?? [])
        {
            foreach (var address in node.Addresses)
            {
                nodeAddresses.TryAdd(address, node.Name);
            }
        }

        foreach (var (file, module) in modules)
        {
            if (!names.TryAdd(module.Name, file))
            {
                errors.Add(new ConfigError(file, 1, 1, $"module name '{module.Name}' is also used by {names[module.Name]}", "give every module its own name"));
            }

            foreach (var vip in module.Vips)
            {
                if (vips.TryGetValue(vip, out var first))
                {
                    errors.Add(new ConfigError(file, 1, 1, $"VIP {vip} of module '{module.Name}' is also a VIP of module '{first.Module}' ({first.File})", "give each module its own VIPs: a node binds each VIP once"));
                }
                else
                {
                    vips.Add(vip, (file, module.Name));
                }

                if (nodeAddresses.TryGetValue(vip, out string? node))
                {
                    errors.Add(new ConfigError(file, 1, 1, $"VIP {vip} of module '{module.Name}' is the address of node '{node}' in {cluster!.Value.File}", "use a VIP no node has as its own address"));
                }
            }
        }

        return errors;
    }
}

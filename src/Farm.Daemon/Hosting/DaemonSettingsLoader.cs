using System.Net;
using Farm.Core.Config;

namespace Farm.Daemon.Hosting;

/// <summary>Reads and checks the files named on the command line; errors are printed the way farmctl prints them.</summary>
internal static class DaemonSettingsLoader
{
    /// <summary>The settings, or null after writing every problem to <paramref name="error"/>.</summary>
    public static DaemonSettings? Load(DaemonArguments args, long incarnation, string? notifySocket, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(error);
        var cluster = LoadFile(args.ClusterFile, error, ConfigParser.ParseCluster);
        if (cluster is null)
        {
            return null;
        }

        string nodes = string.Join(", ", cluster.Nodes.Select(n => n.Name));
        NodeConfig? self;
        if (args.NodeName is { } name)
        {
            self = cluster.Nodes.FirstOrDefault(n => string.Equals(n.Name, name, StringComparison.Ordinal));
            if (self is null)
            {
                error.WriteLine($"farmd: node '{name}' is not in {args.ClusterFile}; its nodes are: {nodes}");
                return null;
            }
        }
        else
        {
            string host = args.HostName ?? Dns.GetHostName();
            self = NodeOfHost(cluster, host);
            if (self is null)
            {
                error.WriteLine(
                    $"farmd: no --node given, and this host's name '{host}' is not a node of {args.ClusterFile}; its nodes are: {nodes} " +
                    $"(hint: name this node with --node NAME, e.g. FARMD_OPTS=\"--node {cluster.Nodes[0].Name}\" in /etc/default/farmd)");
                return null;
            }
        }

        bool ok = true;
        var map = new Dictionary<IPAddress, IPAddress>();
        foreach (string pair in args.AddressMap)
        {
            string[] parts = pair.Split('=', 2);
            if (parts.Length != 2 || !IPAddress.TryParse(parts[0], out var from) || !IPAddress.TryParse(parts[1], out var to))
            {
                error.WriteLine($"farmd: --address-map '{pair}' is not FROM=TO with two IP addresses (e.g. 198.18.0.1=127.0.0.1)");
                ok = false;
                continue;
            }

            map[from] = to;
        }

        var modules = new List<ModuleConfig>();
        var moduleDirectories = new Dictionary<string, string>(StringComparer.Ordinal);
        if (args.ModulesDirectory is { } dir && !(args.ModulesDirectoryOptional && !Directory.Exists(dir)))
        {
            if (!Directory.Exists(dir))
            {
                error.WriteLine($"farmd: modules directory '{dir}' does not exist");
                return null;
            }

            foreach (string moduleDir in Directory.GetDirectories(dir).Order(StringComparer.Ordinal))
            {
                string file = Path.Combine(moduleDir, "farm.yaml");
                if (!File.Exists(file))
                {
                    continue; // not a module (e.g. a backup folder)
                }

                if (LoadFile(file, error, ConfigParser.ParseModule) is { } module)
                {
                    if (modules.Any(m => m.Name == module.Name))
                    {
                        error.WriteLine($"{file}:1:1: error: module name '{module.Name}' is used by another module folder (hint: give every module its own name)");
                        ok = false;
                    }
                    else
                    {
                        modules.Add(module);
                        moduleDirectories[module.Name] = Path.GetFullPath(moduleDir);
                    }
                }
                else
                {
                    ok = false;
                }
            }
        }

        if (!ok)
        {
            return null;
        }

        return new DaemonSettings
        {
            ClusterFile = args.ClusterFile,
            Cluster = cluster,
            Self = self,
            Modules = modules,
            ModuleDirectories = moduleDirectories,
            AdminSocket = args.AdminSocket,
            LogDirectory = args.LogDirectory,
            DataPlane = args.DataPlane,
            StateDirectory = args.StateDirectory,
            AddressMap = map,
            Incarnation = incarnation,
            NotifySocket = string.IsNullOrEmpty(notifySocket) ? null : notifySocket,
        };
    }

    /// <summary>
    /// The node named like <paramref name="host"/>: exactly, else ignoring case (host names are), else by the short name
    /// (before the first dot) of either side. Null when none or more than one match.
    /// </summary>
    public static NodeConfig? NodeOfHost(ClusterConfig cluster, string host)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(host);
        static string Short(string name) => name.Split('.', 2)[0];
        Func<NodeConfig, bool>[] rules =
        [
            n => string.Equals(n.Name, host, StringComparison.Ordinal),
            n => string.Equals(n.Name, host, StringComparison.OrdinalIgnoreCase),
            n => string.Equals(Short(n.Name), Short(host), StringComparison.OrdinalIgnoreCase),
        ];
        foreach (var rule in rules)
        {
            var matches = cluster.Nodes.Where(rule).Take(2).ToList();
            if (matches.Count > 0)
            {
                return matches.Count == 1 ? matches[0] : null;
            }
        }

        return null;
    }

    private static T? LoadFile<T>(string file, TextWriter error, Func<string, string, ConfigResult<T>> parse)
        where T : class
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            string problem = ex switch
            {
                FileNotFoundException or DirectoryNotFoundException => "file not found (hint: check the path)",
                UnauthorizedAccessException => "permission denied (hint: run as a user who may read the file)",
                _ => "cannot read the file: " + ex.Message,
            };
            error.WriteLine($"{file}:1:1: error: {problem}");
            return null;
        }

        var result = parse(text, file);
        foreach (var e in result.Errors)
        {
            error.WriteLine(e.ToString());
        }

        return result.Value;
    }
}

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

        var self = cluster.Nodes.FirstOrDefault(n => string.Equals(n.Name, args.NodeName, StringComparison.Ordinal));
        if (self is null)
        {
            error.WriteLine($"farmd: node '{args.NodeName}' is not in {args.ClusterFile}; its nodes are: {string.Join(", ", cluster.Nodes.Select(n => n.Name))}");
            return null;
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
        if (args.ModulesDirectory is { } dir)
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

using Farm.Native.Linux;

namespace Farm.Daemon.Hosting;

/// <summary>
/// Reads and checks the files named on the command line; errors are printed the way farmctl prints them. Besides the
/// configuration it checks the local trust boundary: the cluster key's file is private, the cluster file and every
/// module folder are root's own, the state folder is farmd's own; and it allocates the run's incarnation.
/// </summary>
internal static class DaemonSettingsLoader
{
    /// <summary>
    /// The settings, or null after writing every problem to <paramref name="error"/>. <paramref name="clockIncarnation"/>
    /// is the clock at start in unix ms; the run's incarnation is larger than the last run's even if the clock went back
    /// (<see cref="IncarnationStore"/>). Warnings (a module refused, an incarnation not kept) go to <paramref name="error"/> too.
    /// </summary>
    public static DaemonSettings? Load(DaemonArguments args, long clockIncarnation, string? notifySocket, TextWriter error, IFileInspector? files = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(error);
        files ??= StatxFileInspector.Instance;
        bool checkTrust = !OperatingSystem.IsWindows();
        var keyFiles = KeyFileReader.For(args.ClusterFile, files);
        var cluster = LoadFile(args.ClusterFile, error, (text, file) => ConfigParser.ParseCluster(text, file, keyFiles));
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

        if (checkTrust && ClusterKeyTrust.Problems(args.ClusterFile, cluster, keyFiles, files) is { Count: > 0 } keyProblems)
        {
            foreach (string problem in keyProblems)
            {
                error.WriteLine("farmd: " + problem);
            }

            return null;
        }

        bool ok = true;
        uint? adminGroup = null;
        if (args.AdminGroup is { } group)
        {
            adminGroup = OperatingSystem.IsWindows() ? null : UnixGroups.Resolve(group);
            if (adminGroup is null)
            {
                error.WriteLine($"farmd: --admin-group '{group}' is not a group of this host (see 'getent group')");
                ok = false;
            }
        }

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
        var refused = new Dictionary<string, string>(StringComparer.Ordinal);
        if (args.ModulesDirectory is { } dir && !(args.ModulesDirectoryOptional && !Directory.Exists(dir)))
        {
            if (!Directory.Exists(dir))
            {
                error.WriteLine($"farmd: modules directory '{dir}' does not exist");
                return null;
            }

            foreach (var found in ModuleFolders.Scan(dir, files, checkTrust))
            {
                foreach (string problem in found.Errors)
                {
                    error.WriteLine(problem);
                }

                if (found.Module is not { } module)
                {
                    ok = false;
                    continue;
                }

                if (modules.Any(m => m.Name == module.Name))
                {
                    error.WriteLine($"{found.File}:1:1: error: module name '{module.Name}' is used by another module folder (hint: give every module its own name)");
                    ok = false;
                    continue;
                }

                modules.Add(module);
                // A bundle's link is resolved once: the module runs from its version's folder, which an install never
                // changes (a new version goes beside it and is swapped in by a reload), not through the link.
                moduleDirectories[module.Name] = found.Folder;
                if (found.Untrusted is { } reason)
                {
                    error.WriteLine(args.AllowUntrustedModules
                        ? $"farmd: warning: module {module.Name} runs anyway (--allow-untrusted-modules): {reason}"
                        : $"farmd: module {module.Name} is refused (it will not run on this node): {reason}");
                    if (!args.AllowUntrustedModules)
                    {
                        refused[module.Name] = reason;
                    }
                }
            }
        }

        var moduleFiles = modules.Select(m => (Path.Combine(moduleDirectories[m.Name], "farm.yaml"), m)).ToList();
        foreach (var problem in ConfigCrossCheck.Check((args.ClusterFile, cluster), moduleFiles))
        {
            error.WriteLine(problem.ToString());
            ok = false;
        }

        if (!ok)
        {
            return null;
        }

        // The state folder holds what the next start undoes as root: it must be farmd's alone.
        if (args.DataPlane == DataPlaneMode.Kernel && checkTrust && modules.Count > 0 && PrivateFiles.EnsurePrivateDirectory(args.StateDirectory, files) is { } stateProblem)
        {
            error.WriteLine($"farmd: the state folder cannot be used: {stateProblem} (use --state-dir DIR)");
            return null;
        }

        long incarnation = IncarnationStore.Allocate(args.StateDirectory, self.Name, clockIncarnation, files, out string? incarnationWarning);
        if (incarnationWarning is not null)
        {
            error.WriteLine("farmd: warning: " + incarnationWarning);
        }

        return new DaemonSettings
        {
            ClusterFile = args.ClusterFile,
            Cluster = cluster,
            Self = self,
            Modules = modules,
            ModuleDirectories = moduleDirectories,
            ModulesDirectory = args.ModulesDirectory is { } modulesDir && Directory.Exists(modulesDir) ? Path.GetFullPath(modulesDir) : null,
            RefusedModules = refused,
            AllowUntrustedModules = args.AllowUntrustedModules,
            AdminSocket = args.AdminSocket,
            AdminGroupId = adminGroup,
            LogDirectory = args.LogDirectory,
            LogLevel = args.LogLevel,
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
        var (text, problem) = ModuleFolders.Read(file);
        if (text is null)
        {
            error.WriteLine(problem);
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

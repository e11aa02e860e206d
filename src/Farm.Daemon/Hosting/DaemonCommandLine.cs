namespace Farm.Daemon.Hosting;

/// <summary>Parses farmd's command line: <c>--name value</c> or <c>--name=value</c>; every problem is reported at once.</summary>
internal static class DaemonCommandLine
{
    public const string Usage = """
        Usage: farmd [--cluster FILE] [--node NAME] [options]
               farmd --cleanup [--state-dir DIR]

        Runs one node of a Farm cluster: membership over gRPC, the admin API, the data plane (nftables filter, VIPs,
        ARP/NDP) and the applications of every module. Without options it runs the node of /etc/farm/cluster.yaml
        named like this host, with the modules of /etc/farm/modules (the systemd unit farmd.service does so).

        Options:
          --cluster FILE        the cluster file (identical on every node) (default: /etc/farm/cluster.yaml)
          --node NAME           this node's name in the cluster file (default: the node named like this host, its
                                full or short host name)
          --modules DIR         directory of modules: DIR/<name>/farm.yaml (default: /etc/farm/modules if it exists
                                and --cluster is not given; none when --cluster is given)
          --admin-socket PATH   Unix socket of the admin API, mode 0600 (default: /run/farm/farmd.sock)
          --admin-group GROUP   members of this group (name or gid) may use the admin socket besides root
          --log-dir DIR         also write a daily rolling log file farmd-YYYYMMDD.log there (default: console only)
          --log-level LEVEL     debug, information (default), warning or error; debug adds each bucket assignment
                                applied to the kernel, lease and drain details (for troubleshooting: it is verbose)
          --state-dir DIR       where the data plane records its changes, to undo them after a crash
                                (default: /var/lib/farm)
          --data-plane MODE     kernel (default: program nftables, VIPs, ARP/NDP; needs root) or off (membership
                                only, nothing on the host is touched)
          --address-map A=B     bind and dial address B wherever the cluster file says A (repeatable; for tests
                                that run several nodes on loopback addresses)
          --allow-untrusted-modules
                                development only: run modules whose files others may write, with a warning
          --cleanup             remove what a crashed farmd left (farm_* nft tables, VIPs, sysctls, MAC filter
                                entries recorded in --state-dir) and exit; refused while farmd runs
          -h, --help            show this help

        Signals: SIGTERM/SIGINT stop the modules, leave the farm gracefully, then exit 0; SIGHUP re-reads the cluster file.
        Exit codes: 0 stopped cleanly, 1 configuration or startup error, 2 usage error.
        """;

    private static readonly HashSet<string> Flags = new(StringComparer.Ordinal) { "--cleanup", "--allow-untrusted-modules" };

    private static readonly HashSet<string> ValueOptions = new(StringComparer.Ordinal)
    {
        "--cluster", "--node", "--modules", "--admin-socket", "--admin-group", "--log-dir", "--log-level", "--address-map", "--state-dir", "--data-plane",
    };

    /// <summary>The arguments, or null with every error in <paramref name="errors"/>; <paramref name="help"/> when help was asked.</summary>
    public static DaemonArguments? Parse(IReadOnlyList<string> args, out bool help, out IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(args);
        help = false;
        var problems = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var map = new List<string>();
        bool cleanup = false;
        bool allowUntrusted = false;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg is "-h" or "--help")
            {
                help = true;
                continue;
            }

            if (Flags.Contains(arg))
            {
                cleanup |= arg == "--cleanup";
                allowUntrusted |= arg == "--allow-untrusted-modules";
                continue;
            }

            string name = arg;
            string? value = null;
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                name = arg[..eq];
                value = arg[(eq + 1)..];
            }

            if (!ValueOptions.Contains(name))
            {
                problems.Add(arg.StartsWith('-') ? $"unknown option '{name}'" : $"unexpected argument '{arg}'");
                continue;
            }

            if (value is null)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    problems.Add($"option '{name}' needs a value");
                    continue;
                }

                value = args[++i];
            }

            if (name == "--address-map")
            {
                map.Add(value);
            }
            else if (!values.TryAdd(name, value))
            {
                problems.Add($"option '{name}' is given twice");
            }
        }

        if (help)
        {
            errors = [];
            return null;
        }

        var dataPlane = DataPlaneMode.Kernel;
        if (values.TryGetValue("--data-plane", out string? mode))
        {
            switch (mode)
            {
                case "kernel":
                    break;
                case "off":
                    dataPlane = DataPlaneMode.Off;
                    break;
                default:
                    problems.Add($"option '--data-plane' is '{mode}', which is not one of kernel, off");
                    break;
            }
        }

        var logLevel = LogLevel.Information;
        if (values.TryGetValue("--log-level", out string? level))
        {
            switch (level)
            {
                case "debug":
                    logLevel = LogLevel.Debug;
                    break;
                case "information":
                    break;
                case "warning":
                    logLevel = LogLevel.Warning;
                    break;
                case "error":
                    logLevel = LogLevel.Error;
                    break;
                default:
                    problems.Add($"option '--log-level' is '{level}', which is not one of debug, information, warning, error");
                    break;
            }
        }

        errors = problems;
        if (problems.Count > 0)
        {
            return null;
        }

        // The default modules belong to the default cluster file only: a farmd started on another file (a test, a
        // second farm on the host) never picks up the installed modules.
        string? cluster = values.GetValueOrDefault("--cluster");
        string? modules = values.GetValueOrDefault("--modules");
        return new DaemonArguments
        {
            ClusterFile = cluster ?? DefaultPaths.ClusterFile,
            NodeName = values.GetValueOrDefault("--node"),
            ModulesDirectory = modules ?? (cluster is null ? DefaultPaths.ModulesDirectory : null),
            ModulesDirectoryOptional = modules is null,
            AdminSocket = values.GetValueOrDefault("--admin-socket") ?? DaemonSettings.DefaultAdminSocket,
            LogDirectory = values.GetValueOrDefault("--log-dir"),
            LogLevel = logLevel,
            StateDirectory = values.GetValueOrDefault("--state-dir") ?? DaemonSettings.DefaultStateDirectory,
            DataPlane = dataPlane,
            AddressMap = map,
            Cleanup = cleanup,
            AdminGroup = values.GetValueOrDefault("--admin-group"),
            AllowUntrustedModules = allowUntrusted,
        };
    }
}

using System.CommandLine.Parsing;
using System.Net;
using System.Net.Sockets;

namespace Farm.Cli.Admin;

/// <summary>
/// The options every command that talks to farmd takes (<c>--socket</c>, <c>--host</c>, <c>--cluster</c>,
/// <c>--key-file</c>, <c>--timeout</c>), their usage checks, and how they become an <see cref="AdminTarget"/>.
/// </summary>
internal sealed class AdminConnectionOptions
{
    private readonly Option<string> socket = new("--socket")
    {
        Description = "farmd's admin Unix socket on this node (plain calls, root only).",
        HelpName = "PATH",
        DefaultValueFactory = _ => AdminTarget.DefaultSocket,
    };

    private readonly Option<string?> host = new("--host")
    {
        Description = "Ask a node over TCP instead: HOST[:PORT] (PORT defaults to the cluster's grpc_port); needs --cluster or --key-file.",
        HelpName = "HOST[:PORT]",
    };

    private readonly Option<string?> cluster = new("--cluster")
    {
        Description = "With --host: the cluster file, for the key, the port and the node names replies may come from.",
        HelpName = "FILE",
    };

    private readonly Option<string?> keyFile = new("--key-file")
    {
        Description = $"With --host: a file holding only the cluster key (PORT defaults to {ClusterConfig.DefaultGrpcPort}).",
        HelpName = "FILE",
    };

    private readonly Option<string?> ca = new("--ca")
    {
        Description = "With --host and --key-file: the cluster CA for a farm with TLS (with --cluster, its tls.ca is used).",
        HelpName = "FILE",
    };

    private readonly Option<string> timeout = new("--timeout")
    {
        Description = "How long to wait for farmd's answer, e.g. 500ms, 5s.",
        HelpName = "DURATION",
        DefaultValueFactory = _ => "5s",
    };

    /// <summary>Adds the options and their checks to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(socket);
        command.Options.Add(host);
        command.Options.Add(cluster);
        command.Options.Add(keyFile);
        command.Options.Add(ca);
        command.Options.Add(timeout);
        command.Validators.Add(Validate);
    }

    /// <summary>
    /// The target the parsed options name. Throws <see cref="AdminCallException"/> when a key or cluster file cannot be
    /// used (a failure, exit 1: the command line itself was right).
    /// </summary>
    public AdminTarget Resolve(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        _ = ConfigDuration.TryParse(parseResult.GetValue(timeout) ?? "5s", out var wait, out _);
        if (parseResult.GetValue(host) is not { } hostText)
        {
            return AdminTarget.Local(parseResult.GetValue(socket) ?? AdminTarget.DefaultSocket, wait);
        }

        _ = TryParseHost(hostText, out string name, out int? port);
        if (parseResult.GetValue(cluster) is { } clusterFile)
        {
            var config = LoadCluster(clusterFile);
            return new AdminTarget
            {
                Host = name,
                Port = port ?? config.GrpcPort,
                Key = config.Key,
                Nodes = config.Nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal),
                Timeout = wait,
                TlsCaFile = parseResult.GetValue(ca) ?? config.Tls?.CaFile,
            };
        }

        string path = parseResult.GetValue(keyFile)!;
        string key = ReadFile(path, "key file").Trim();
        if (key.Length == 0)
        {
            throw new AdminCallException($"{path}: the key file is empty (it must hold the cluster's 'key' value)");
        }

        return new AdminTarget { Host = name, Port = port ?? ClusterConfig.DefaultGrpcPort, Key = key, Timeout = wait, TlsCaFile = parseResult.GetValue(ca) };
    }

    /// <summary>True when <c>--timeout</c> was given on the command line (not its default).</summary>
    public bool HasTimeout(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        return parseResult.GetResult(timeout) is { Implicit: false };
    }

    /// <summary>True when the command line names a node over TCP (<c>--host</c>) rather than the local socket.</summary>
    public bool HasHost(CommandResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.GetResult(host) is { Implicit: false };
    }

    /// <summary>Parses <c>HOST</c>, <c>HOST:PORT</c>, <c>IPv6</c>, <c>[IPv6]</c> or <c>[IPv6]:PORT</c>.</summary>
    public static bool TryParseHost(string text, out string name, out int? port)
    {
        name = "";
        port = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        string rest;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || !IPAddress.TryParse(text[1..close], out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }

            name = text[1..close];
            rest = text[(close + 1)..];
        }
        else if (text.Count(c => c == ':') >= 2)
        {
            // A bare IPv6 address: a port would be ambiguous, so it needs brackets.
            name = text;
            return IPAddress.TryParse(text, out var bare) && bare.AddressFamily == AddressFamily.InterNetworkV6;
        }
        else
        {
            int colon = text.IndexOf(':', StringComparison.Ordinal);
            name = colon < 0 ? text : text[..colon];
            rest = colon < 0 ? "" : text[colon..];
            if (name.Length == 0 || Uri.CheckHostName(name) == UriHostNameType.Unknown)
            {
                return false;
            }
        }

        if (rest.Length == 0)
        {
            return true;
        }

        if (rest[0] != ':' || !int.TryParse(rest[1..], NumberStyles.None, CultureInfo.InvariantCulture, out int p) || p is < 1 or > 65535)
        {
            return false;
        }

        port = p;
        return true;
    }

    private void Validate(CommandResult result)
    {
        bool hasHost = HasHost(result);
        bool hasCluster = result.GetResult(cluster) is { Implicit: false };
        bool hasKeyFile = result.GetResult(keyFile) is { Implicit: false };
        bool hasSocket = result.GetResult(socket) is { Implicit: false };
        if (hasHost && hasSocket)
        {
            result.AddError("--socket and --host exclude each other: ask the local farmd or a remote one.");
        }

        if (hasHost && !hasCluster && !hasKeyFile)
        {
            result.AddError("--host needs the cluster key to seal the call: add --cluster FILE or --key-file FILE.");
        }

        if (hasCluster && hasKeyFile)
        {
            result.AddError("--cluster and --key-file exclude each other: give one source of the key.");
        }

        if (!hasHost && result.GetResult(ca) is { Implicit: false })
        {
            result.AddError("--ca goes with --host; the local socket needs no TLS.");
        }

        if (!hasHost && (hasCluster || hasKeyFile))
        {
            result.AddError("--cluster and --key-file go with --host; the local socket needs no key.");
        }

        if (hasHost && result.GetValue(host) is { } h && !TryParseHost(h, out _, out _))
        {
            result.AddError($"--host '{h}' is not HOST, HOST:PORT or [IPv6]:PORT.");
        }

        if (result.GetValue(timeout) is { } t && (!ConfigDuration.TryParse(t, out var span, out _) || span <= TimeSpan.Zero))
        {
            result.AddError($"--timeout '{t}' is not a positive duration ({ConfigDuration.FormatHint}).");
        }
    }

    private static ClusterConfig LoadCluster(string path)
    {
        // A key_file beside the cluster file is read as farmd reads it (owner, mode, size checked).
        var result = ConfigParser.ParseCluster(ReadFile(path, "cluster file"), path, Farm.Native.Linux.KeyFileReader.For(path, Farm.Native.Linux.StatxFileInspector.Instance));
        if (result.Value is { } config && result.Errors.Count == 0)
        {
            return config;
        }

        throw new AdminCallException(
            $"{path} is not a valid cluster file (check it with 'farmctl config check {path}'):" + Environment.NewLine
            + string.Join(Environment.NewLine, result.Errors.Select(e => e.ToString())));
    }

    private static string ReadFile(string path, string what)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            string reason = AdminCallException.ReadFailure(ex, "permission denied (the key is readable by root only? run as root)");
            throw new AdminCallException($"cannot read the {what} {path}: {reason}");
        }
    }
}

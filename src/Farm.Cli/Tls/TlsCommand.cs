namespace Farm.Cli.Tls;

/// <summary><c>farmctl tls init</c>: a cluster CA and one certificate per node of a cluster file.</summary>
internal static class TlsCommand
{
    public static Command Create(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var cluster = new Option<string>("--cluster") { Description = "The cluster file: its name and nodes.", HelpName = "FILE", Required = true };
        var output = new Option<string>("--out") { Description = "Folder for the files (created; existing files are never overwritten).", HelpName = "DIR", Required = true };
        var days = new Option<int>("--days") { Description = "Lifetime of the certificates in days.", DefaultValueFactory = _ => ClusterCertificates.DefaultDays };
        days.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 36500)
            {
                r.AddError("--days must be between 1 and 36500.");
            }
        });
        var init = new Command("init", "Make a cluster CA and a certificate for every node of the cluster file (ECDSA P-256; keys mode 0600).")
        {
            cluster, output, days,
        };
        init.SetAction(parseResult => Init(context, parseResult.GetValue(cluster)!, parseResult.GetValue(output)!, parseResult.GetValue(days)));
        return new Command("tls", "TLS between nodes: make the certificates the cluster file's 'tls:' section names.") { init };
    }

    private static int Init(CliContext context, string clusterFile, string directory, int days)
    {
        string text;
        try
        {
            text = File.ReadAllText(clusterFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            context.Error.WriteLine($"farmctl: cannot read {clusterFile}: {ex.Message}");
            return 1;
        }

        var parsed = ConfigParser.ParseCluster(text, clusterFile);
        if (parsed.Value is not { } config || parsed.Errors.Count > 0)
        {
            context.Error.WriteLine($"farmctl: {clusterFile} is not a valid cluster file (farmctl config check {clusterFile})");
            return 1;
        }

        try
        {
            ClusterCertificates.Write(config, directory, days, context.TimeProvider.GetUtcNow());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            context.Error.WriteLine($"farmctl: {ex.Message}");
            return 1;
        }

        var o = context.Output;
        o.WriteLine($"Wrote into {directory}: {string.Join(", ", ClusterCertificates.FilesFor(config.Nodes.Select(n => n.Name)))}.");
        o.WriteLine("Next, on every node:");
        o.WriteLine("  1. copy ca.crt, NODE.crt and NODE.key of that node to /etc/farm/tls/ (keys: root, mode 0600);");
        o.WriteLine("  2. add to the cluster file (the same on every node), then restart farmd on all nodes:");
        o.WriteLine("       tls:");
        o.WriteLine("         ca: /etc/farm/tls/ca.crt");
        o.WriteLine("         certificate: /etc/farm/tls/{node}.crt");
        o.WriteLine("         key: /etc/farm/tls/{node}.key");
        o.WriteLine("Keep ca.key offline: it is needed only to issue certificates for new nodes.");
        return 0;
    }
}

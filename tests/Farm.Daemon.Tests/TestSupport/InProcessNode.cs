using Farm.Core.Config;
using Farm.Daemon.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Farm.Daemon.Tests.TestSupport;

/// <summary>One farmd node hosted in the test process (real Kestrel, real sockets, real heartbeat thread).</summary>
internal sealed class InProcessNode : IAsyncDisposable
{
    private InProcessNode(WebApplication app, FarmNode node, string socket)
    {
        App = app;
        Node = node;
        Socket = socket;
    }

    public WebApplication App { get; }

    public FarmNode Node { get; }

    public string Socket { get; }

    public static async Task<InProcessNode> StartAsync(
        string clusterFile, string name, string dir, ILoggerProvider logs, IReadOnlyList<ModuleConfig>? modules = null, IReadOnlyDictionary<string, string>? moduleDirectories = null)
    {
        var cluster = ConfigParser.ParseCluster(await File.ReadAllTextAsync(clusterFile), clusterFile);
        Assert.IsTrue(cluster.Succeeded, string.Join("\n", cluster.Errors));
        string socket = Path.Combine(dir, name + ".sock");
        Assert.IsNull(AdminSocket.Prepare(socket));
        var settings = new DaemonSettings
        {
            ClusterFile = clusterFile,
            Cluster = cluster.Value!,
            Self = cluster.Value!.Nodes.Single(n => n.Name == name),
            Modules = modules ?? [],
            ModuleDirectories = moduleDirectories ?? new Dictionary<string, string>(),
            AdminSocket = socket,
            AddressMap = TestClusterFiles.AddressMap,
            Incarnation = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds(),
            DataPlane = DataPlaneMode.Off, // never touch the test host's own network
            LeaveTimeout = TimeSpan.FromSeconds(2),
        };
        var (app, node) = DaemonHost.Build(settings, TimeProvider.System, l => l.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        await app.StartAsync().WithTimeout();
        return new InProcessNode(app, node, socket);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await App.StopAsync().WithTimeout();
        }
        finally
        {
            await App.DisposeAsync();
        }
    }
}

namespace Farm.Daemon.Tests.TestSupport;

/// <summary>One farmd node hosted in the test process (real Kestrel, real sockets, real heartbeat thread).</summary>
internal sealed class InProcessNode(WebApplication app, FarmNode node, string socket) : IAsyncDisposable
{
    public WebApplication App { get; } = app;

    public FarmNode Node { get; } = node;

    public string Socket { get; } = socket;

    public static async Task<InProcessNode> StartAsync(
        string clusterFile,
        string name,
        string dir,
        ILoggerProvider logs,
        IReadOnlyList<ModuleConfig>? modules = null,
        IReadOnlyDictionary<string, string>? moduleDirectories = null,
        IReadOnlyDictionary<string, string>? refusedModules = null,
        string? modulesDirectory = null,
        Func<DaemonSettings, DaemonSettings>? adjust = null)
    {
        string socket = Path.Combine(dir, name + ".sock");
        Assert.IsNull(AdminSocket.Prepare(socket));
        using var errors = new StringWriter();
        var arguments = new DaemonArguments
        {
            ClusterFile = clusterFile,
            NodeName = name,
            AdminSocket = socket,
            DataPlane = DataPlaneMode.Off, // never touch the test host's own network
            StateDirectory = Path.Combine(dir, name + "-state"),
        };
        var loaded = DaemonSettingsLoader.Load(arguments, TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds(), null, errors);
        Assert.IsNotNull(loaded, errors.ToString());
        var settings = loaded with
        {
            Modules = modules ?? [],
            ModuleDirectories = moduleDirectories ?? new Dictionary<string, string>(),
            RefusedModules = refusedModules ?? new Dictionary<string, string>(),
            ModulesDirectory = modulesDirectory,
            AddressMap = TestClusterFiles.AddressMap,
            LeaveTimeout = TimeSpan.FromSeconds(2),
        };
        settings = adjust?.Invoke(settings) ?? settings;
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

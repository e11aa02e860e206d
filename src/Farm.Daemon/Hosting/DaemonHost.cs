using Farm.Rpc.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Farm.Daemon.Hosting;

/// <summary>Builds farmd's web host: Kestrel h2c on each LAN address of this node, the admin Unix socket, both services.</summary>
internal static class DaemonHost
{
    /// <summary>Builds (does not start) the host of one node.</summary>
    public static (WebApplication App, FarmNode Node) Build(DaemonSettings settings, TimeProvider timeProvider, Action<ILoggingBuilder> configureLogging)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(configureLogging);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = "farmd",
            ContentRootPath = AppContext.BaseDirectory,
        });
        configureLogging(builder.Logging.ClearProviders());
        builder.Services.AddSingleton(timeProvider);
        // Room for the modules' stop scripts (they stop before the node leaves), the leave, and Kestrel.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = Modules.ModuleHost.StopBound(settings.Modules) + settings.LeaveTimeout + TimeSpan.FromSeconds(10));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            foreach (var endpoint in settings.EndpointsOf(settings.Self))
            {
                kestrel.Listen(endpoint, l => l.Protocols = HttpProtocols.Http2);
            }

            kestrel.ListenUnixSocket(settings.AdminSocket, l => l.Protocols = HttpProtocols.Http2);
        });

        builder.Services.AddSingleton(sp => new FarmNode(settings, timeProvider, sp.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddHostedService<FarmdLifecycle>();

        var app = builder.Build();
        var node = app.Services.GetRequiredService<FarmNode>();
        app.MapRpcService(s =>
        {
            node.Membership.Register(s);
            node.Admin.Register(s);
        });
        return (app, node);
    }
}

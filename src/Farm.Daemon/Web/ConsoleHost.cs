using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Farm.Daemon.Hosting;
using Farm.WebConsole;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Prometheus;

namespace Farm.Daemon.Web;

/// <summary>
/// The console port (<c>console_port</c>, default 9410): HTTPS with HTTP/1.1 and HTTP/2 on each address of this node,
/// open to any client (monitoring, browsers), serving <c>/metrics</c>, <c>/healthz</c>, <c>/ready/MODULE</c> and the
/// read-only web console (<c>/</c>, <c>/console/...</c>). It
/// shares farmd's web host with the gRPC port; a port gate keeps each port to its own endpoints, so the gRPC services
/// are never reachable on the console port and the console never on the gRPC port.
/// </summary>
internal static partial class ConsoleHost
{
    /// <summary>Listens on the console port of every address of this node.</summary>
    public static void Listen(KestrelServerOptions kestrel, ConsoleOptions console, X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(console);
        foreach (var endpoint in console.Endpoints)
        {
            kestrel.Listen(endpoint, l =>
            {
                l.Protocols = HttpProtocols.Http1AndHttp2;
                l.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = certificate,
                    SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    ClientCertificateMode = ClientCertificateMode.NoCertificate,
                });
            });
        }
    }

    /// <summary>
    /// Registers the console's login when its users file (<c>console_users</c>) exists now; without it the console is
    /// read-only and open (<see cref="Map"/> logs which).
    /// </summary>
    public static void AddServices(IServiceCollection services, ConsoleOptions console)
    {
        ArgumentNullException.ThrowIfNull(console);
        services.AddWebConsoleLogin(File.Exists(console.UsersFile) ? console.UsersFile : null);
    }

    /// <summary>Maps the console's endpoints and the port gate.</summary>
    public static void Map(WebApplication app, ConsoleOptions console, FarmNode node)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(node);
        int port = console.Port;
        app.Use((context, next) =>
        {
            // Routing ran already (the web application adds it first): the endpoint is known, not yet executed.
            bool onConsolePort = context.Connection.LocalPort == port && context.Connection.LocalIpAddress is not null;
            bool consoleEndpoint = context.GetEndpoint()?.Metadata.GetMetadata<ConsoleEndpoint>() is not null;
            if (onConsolePort != consoleEndpoint)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return next(context);
        });
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ConsoleHost));
        if (!WebConsoleLogin.IsEnabled(app.Services))
        {
            Log.Open(logger, console.UsersFile);
        }
        else
        {
            Log.Login(logger, console.UsersFile);
            // After the port gate: the console's sessions mean nothing on the gRPC port (its endpoints name no policy).
            app.UseAuthentication();
            app.UseAuthorization();
        }

        app.MapMetrics("/metrics", node.Telemetry.Registry).WithMetadata(ConsoleEndpoint.Instance);
        app.MapGet("/healthz", () => node.Host.IsRunning
                ? Results.Text("ok\n", "text/plain")
                : Results.Text("membership not running\n", "text/plain", statusCode: StatusCodes.Status503ServiceUnavailable))
            .WithMetadata(ConsoleEndpoint.Instance);
        app.MapGet("/ready/{module}", (string module) => Readiness.Of(node.Host, [.. node.Modules.Modules.Select(m => m.Name)], module) switch
            {
                Readiness.Answer.Serving => Results.Text("ready\n", "text/plain"),
                Readiness.Answer.NotServing => Results.Text("not serving\n", "text/plain", statusCode: StatusCodes.Status503ServiceUnavailable),
                _ => Results.Text($"unknown module '{module}'\n", "text/plain", statusCode: StatusCodes.Status404NotFound),
            })
            .WithMetadata(ConsoleEndpoint.Instance);

        // The web console: the page, its assets, the live feed of the node's status, the login and the actions.
        var timeProvider = app.Services.GetRequiredService<TimeProvider>();
        foreach (var endpoint in app.MapWebConsole(new ConsoleFeed(node.Status, timeProvider, m => node.Modules.LogsOf(m)?.Tail(ConsoleFeed.LogTailLines) ?? []), node.ConsoleActions))
        {
            endpoint.WithMetadata(ConsoleEndpoint.Instance);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1708, Level = LogLevel.Information, Message = "Web console: read-only, no login (no users file {Path}: 'farmctl console user add' makes one, then restart farmd)")]
        public static partial void Open(ILogger logger, string path);

        [LoggerMessage(EventId = 1709, Level = LogLevel.Information, Message = "Web console: login required, users in {Path}; operators may act")]
        public static partial void Login(ILogger logger, string path);
    }

    /// <summary>Marks the endpoints served on the console port.</summary>
    private sealed class ConsoleEndpoint
    {
        public static readonly ConsoleEndpoint Instance = new();
    }
}

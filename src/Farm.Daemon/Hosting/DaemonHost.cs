using System.Security.Authentication;
using Farm.Protocol.Tls;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Hosting;

namespace Farm.Daemon.Hosting;

/// <summary>
/// Builds farmd's web host: Kestrel HTTP/2 on each LAN address of this node (only the cluster's node addresses may
/// connect) and on the admin Unix socket; the Membership and Admin gRPC services, server reflection and the standard
/// health service; bounded message sizes, connections and streams.
/// </summary>
internal static class DaemonHost
{
    /// <summary>Most TCP connections at once: two per peer per LAN (membership, admin relay) leave room for farmctl.</summary>
    public const int MaxConnections = 512;

    /// <summary>Most concurrent calls on one HTTP/2 connection (a peer has at most a few in flight).</summary>
    public const int MaxStreamsPerConnection = 32;

    /// <summary>Largest header block of a call (gRPC sends a handful of short headers).</summary>
    public const int MaxRequestHeadersSize = 8 * 1024;

    /// <summary>Largest admin request: a config apply carries at most 1 MiB of text, sealed.</summary>
    public const int MaxAdminRequestSize = (1024 + 64) * 1024;

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
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ModuleHosting.ModuleHost.StopBound(settings.Modules) + settings.LeaveTimeout + TimeSpan.FromSeconds(10));
        var allowed = AllowedAddresses(settings);

        // Loaded before anything listens: a missing or unreadable certificate stops the start with the file named.
        var tls = settings.Cluster.Tls is { } tlsOptions
            ? ClusterTls.Load(tlsOptions.CaFile, tlsOptions.CertificateOf(settings.Self.Name), tlsOptions.PrivateKeyOf(settings.Self.Name))
            : null;
        var console = settings.BindConsole();
        var consoleCertificate = Web.ConsoleCertificate.Load(console, timeProvider);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxConcurrentConnections = MaxConnections;
            kestrel.Limits.MaxRequestHeadersTotalSize = MaxRequestHeadersSize;
            kestrel.Limits.MaxRequestBodySize = MaxAdminRequestSize + 1024;
            kestrel.Limits.Http2.MaxStreamsPerConnection = MaxStreamsPerConnection;
            kestrel.Limits.Http2.MaxRequestHeaderFieldSize = MaxRequestHeadersSize;
            foreach (var endpoint in settings.EndpointsOf(settings.Self))
            {
                kestrel.Listen(endpoint, l =>
                {
                    l.Protocols = HttpProtocols.Http2;
                    l.Use(next => connection => Admit(connection, allowed, kestrel.ApplicationServices) ? next(connection) : Task.CompletedTask);
                    if (tls is not null)
                    {
                        // Peers must present a certificate of the cluster CA (membership checks it names the sender);
                        // farmctl need not (its calls are sealed with the key).
                        l.UseHttps(new HttpsConnectionAdapterOptions
                        {
                            ServerCertificate = tls.Certificate,
                            SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                            ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                            CheckCertificateRevocation = false,
                            ClientCertificateValidation = (certificate, _, _) => tls.Verify(certificate, null),
                        });
                    }
                });
            }

            // The console port (HTTPS, HTTP/1.1 and HTTP/2): /metrics, /healthz, /ready/MODULE.
            Web.ConsoleHost.Listen(kestrel, console, consoleCertificate);

            kestrel.ListenUnixSocket(settings.AdminSocket, l =>
            {
                l.Protocols = HttpProtocols.Http2;

                // Only root, farmd's own user and the admin group may call (SO_PEERCRED), whatever the file's mode.
                l.Use(AdminSocket.PeerCheck(settings.AdminGroupId, kestrel.ApplicationServices.GetRequiredService<ILoggerFactory>()));
            });
        });

        builder.Services.AddSingleton(sp => new FarmNode(settings, tls, timeProvider, sp.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddSingleton(sp => sp.GetRequiredService<FarmNode>().Membership);
        builder.Services.AddSingleton(sp => sp.GetRequiredService<FarmNode>().Admin);
        builder.Services.AddSingleton<HealthServiceImpl>();
        builder.Services.AddHostedService<FarmdLifecycle>();
        builder.Services
            .AddGrpc(o =>
            {
                o.EnableDetailedErrors = false;
                o.MaxReceiveMessageSize = MaxAdminRequestSize;
            })
            .AddServiceOptions<MembershipService>(o => o.MaxReceiveMessageSize = MembershipService.MaxRequestSize(settings.Modules));
        builder.Services.AddGrpcReflection();
        Web.ConsoleHost.AddServices(builder.Services, console);

        var app = builder.Build();
        var node = app.Services.GetRequiredService<FarmNode>();
        app.MapGrpcService<MembershipService>();
        app.MapGrpcService<AdminService>();
        app.MapGrpcService<HealthServiceImpl>();
        app.MapGrpcReflectionService();
        Web.ConsoleHost.Map(app, console, node);

        var health = app.Services.GetRequiredService<HealthServiceImpl>();
        app.Lifetime.ApplicationStarted.Register(() => SetHealth(health, HealthCheckResponse.Types.ServingStatus.Serving));
        app.Lifetime.ApplicationStopping.Register(() => SetHealth(health, HealthCheckResponse.Types.ServingStatus.NotServing));
        return (app, node);
    }

    /// <summary>The addresses that may hold a connection to this node's gRPC port: every node of the cluster on every LAN.</summary>
    internal static IReadOnlySet<IPAddress> AllowedAddresses(DaemonSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Cluster.Nodes.SelectMany(n => n.Addresses).Select(settings.Map).ToHashSet();
    }

    private static bool Admit(ConnectionContext connection, IReadOnlySet<IPAddress> allowed, IServiceProvider services)
    {
        var remote = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        if (remote is { IsIPv4MappedToIPv6: true })
        {
            remote = remote.MapToIPv4();
        }

        if (remote is not null && allowed.Contains(remote))
        {
            return true;
        }

        // Closed before any byte is read: an address outside the farm costs one accept.
        services.GetRequiredService<FarmNode>().Rejections.Record(remote?.ToString() ?? "unknown", RejectReason.ForeignAddress, "connect", "");
        connection.Abort(new ConnectionAbortedException("not a node of this cluster"));
        return false;
    }

    /// <summary>Connects to peers with TLS when the cluster file asks for it: each channel verifies the node it dials.</summary>
    internal static Func<string, Farm.Protocol.ChannelSettings> ChannelsFor(ClusterTls? tls) =>
        node => new Farm.Protocol.ChannelSettings { Tls = tls?.ClientFor(node) };

    private static void SetHealth(HealthServiceImpl health, HealthCheckResponse.Types.ServingStatus status)
    {
        health.SetStatus("", status);
        health.SetStatus(Protocol.V1.Membership.Descriptor.FullName, status);
        health.SetStatus(Protocol.V1.Admin.Descriptor.FullName, status);
    }
}

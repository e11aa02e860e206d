using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Farm.Rpc.Client;
using Farm.Rpc.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Farm.Rpc.Tests.TestSupport;

/// <summary>
/// A Kestrel host serving the Echo service on loopback (port 0) or a Unix socket.
/// Disposing fails the test if the server logged an error the test did not expect.
/// </summary>
internal sealed class RpcTestServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private RpcTestServer(WebApplication app, Transport transport, Uri address, string? socketPath, EchoService echo, TestLoggerProvider log)
    {
        this.app = app;
        Transport = transport;
        Address = address;
        SocketPath = socketPath;
        Echo = echo;
        Log = log;
    }

    public Transport Transport { get; }

    public Uri Address { get; }

    public string? SocketPath { get; }

    public EchoService Echo { get; }

    public TestLoggerProvider Log { get; }

    /// <summary>Set when the test provokes a handler failure that the server must log as an error.</summary>
    public bool ExpectErrors { get; set; }

    public static async Task<RpcTestServer> StartAsync(
        Transport transport,
        Action<RpcServerOptions>? configure = null,
        Action<IEndpointRouteBuilder>? mapMore = null)
    {
        var log = new TestLoggerProvider();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "Farm.Rpc.Tests",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders().AddProvider(log).SetMinimumLevel(LogLevel.Debug);
        builder.Services.Configure<RpcServerOptions>(options => configure?.Invoke(options));
        builder.Services.AddSingleton(TimeProvider.System);

        string? socketPath = transport == Transport.Uds
            ? Path.Combine(Path.GetTempPath(), $"farm-rpc-{Guid.NewGuid():N}.sock")
            : null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            switch (transport)
            {
                case Transport.H2c:
                    kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
                    break;
                case Transport.Tls:
                    kestrel.Listen(IPAddress.Loopback, 0, listen =>
                    {
                        listen.Protocols = HttpProtocols.Http1AndHttp2;
                        listen.UseHttps(TestCertificates.ServerCertificate);
                    });
                    break;
                case Transport.Uds:
                    kestrel.ListenUnixSocket(socketPath!, listen => listen.Protocols = HttpProtocols.Http2);
                    break;
            }
        });

        WebApplication app = builder.Build();
        var echo = new EchoService(TimeProvider.System);
        app.MapRpcService(service => service
            .AddUnary(EchoMethods.Unary, echo.UnaryAsync)
            .AddServerStreaming(EchoMethods.Stream, echo.StreamAsync));
        mapMore?.Invoke(app);
        await app.StartAsync();

        Uri address = transport == Transport.Uds
            ? new Uri("http://localhost")
            : new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
        return new RpcTestServer(app, transport, address, socketPath, echo, log);
    }

    public RpcClientOptions ClientOptions(int? maxReceiveMessageSize = null) => new()
    {
        Address = Address,
        UnixSocketPath = SocketPath,
        ServerCertificateValidation = IsTestServerCertificate,
        MaxReceiveMessageSize = maxReceiveMessageSize ?? (4 * 1024 * 1024),
    };

    public RpcClient CreateClient(int? maxReceiveMessageSize = null) => new(ClientOptions(maxReceiveMessageSize));

    /// <summary>A raw HTTP/2 client for protocol-level tests that bypass <see cref="RpcClient"/>.</summary>
    public HttpClient CreateRawHttpClient()
    {
        var handler = new SocketsHttpHandler { UseProxy = false };
        if (Transport == Transport.Tls)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = IsTestServerCertificate;
        }

        if (SocketPath is { } path)
        {
            handler.ConnectCallback = async (_, token) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), token);
                return new NetworkStream(socket, ownsSocket: true);
            };
        }

        return new HttpClient(handler)
        {
            BaseAddress = Address,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    private static bool IsTestServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        certificate is not null && certificate.GetCertHashString() == TestCertificates.ServerCertificate.GetCertHashString();

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        if (SocketPath is not null)
        {
            File.Delete(SocketPath);
        }

        if (!ExpectErrors && Log.Errors.FirstOrDefault() is { } error)
        {
            throw new AssertFailedException($"The server logged an unexpected error: {error.Message} {error.Exception}");
        }
    }
}

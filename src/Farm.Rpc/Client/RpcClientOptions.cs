using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Farm.Rpc.Protocol;

namespace Farm.Rpc.Client;

/// <summary>Where and how an <see cref="RpcClient"/> connects.</summary>
public sealed class RpcClientOptions
{
    /// <summary>
    /// Server address: <c>http://host:port</c> for h2c (HTTP/2 with prior knowledge) or <c>https://host:port</c> for TLS.
    /// With <see cref="UnixSocketPath"/> the host is only used for the <c>:authority</c> header (e.g. <c>http://localhost</c>).
    /// </summary>
    public required Uri Address { get; init; }

    /// <summary>Path of a Unix domain socket to connect to instead of TCP. Default null: TCP.</summary>
    public string? UnixSocketPath { get; init; }

    /// <summary>Validates the server certificate over TLS. Default null: the platform's chain and name validation.</summary>
    public RemoteCertificateValidationCallback? ServerCertificateValidation { get; init; }

    /// <summary>Client certificates offered over TLS (mutual TLS). Default null: none.</summary>
    public X509CertificateCollection? ClientCertificates { get; init; }

    /// <summary>Largest response message accepted, in bytes; a larger one fails with RESOURCE_EXHAUSTED. Default 4 MiB.</summary>
    public int MaxReceiveMessageSize { get; init; } = GrpcProtocol.DefaultMaxMessageSize;

    /// <summary>Largest request message sent, in bytes; a larger one fails with RESOURCE_EXHAUSTED before sending. Default null: no limit.</summary>
    public int? MaxSendMessageSize { get; init; }

    /// <summary>Timeout for establishing a connection (TCP, UDS and TLS handshake). Default 10 seconds.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Clock used to turn deadlines into timeouts and to enforce them. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// A handler to send requests through instead of the built-in HTTP/2 <see cref="SocketsHttpHandler"/>; the client
    /// does not dispose it. Default null. When set, the socket and TLS options above are ignored.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; init; }
}

using System.Net.Security;
using System.Net.Sockets;
using Grpc.Net.Client;

namespace Farm.Protocol;

/// <summary>
/// Builds the gRPC channels farmd and farmctl call through: HTTP/2 over TCP (h2c, or TLS when
/// <see cref="ChannelSettings.Tls"/> is set) or over farmd's admin Unix socket. One channel keeps one HTTP/2 connection
/// open and multiplexes its calls on it.
/// </summary>
public static class GrpcChannels
{
    /// <summary>A channel to <paramref name="hostAndPort"/> ("ADDRESS:PORT", IPv6 in brackets).</summary>
    public static GrpcChannel ForTcp(string hostAndPort, ChannelSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var handler = Handler(settings);
        if (settings.Tls is { } tls)
        {
            handler.SslOptions = tls;
        }

        if (settings.Connected is not null || settings.Connection is not null)
        {
            // The handler's own connect, plus the notice (a TCP connection to the port proves something listens there)
            // and the record of the socket its owner may drop (ConnectionTracker).
            handler.ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    settings.Connection?.Opened(socket);
                    settings.Connected?.Invoke();
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        string scheme = settings.Tls is null ? "http" : "https";
        return GrpcChannel.ForAddress($"{scheme}://{hostAndPort}", Options(handler, settings));
    }

    /// <summary>A channel to the admin Unix socket at <paramref name="path"/>.</summary>
    public static GrpcChannel ForUnixSocket(string path, ChannelSettings settings)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(settings);
        var handler = Handler(settings);
        var endpoint = new UnixDomainSocketEndPoint(path);
        handler.ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(endpoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };

        // The authority is unused on a Unix socket; "localhost" keeps the :authority header valid.
        return GrpcChannel.ForAddress("http://localhost", Options(handler, settings));
    }

    private static SocketsHttpHandler Handler(ChannelSettings settings) => new()
    {
        ConnectTimeout = settings.ConnectTimeout,
        EnableMultipleHttp2Connections = false,

        // Peers talk every heartbeat interval: keep the connection for the life of the channel.
        PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
    };

    private static GrpcChannelOptions Options(SocketsHttpHandler handler, ChannelSettings settings) => new()
    {
        HttpHandler = handler,
        DisposeHttpClient = true,
        MaxReceiveMessageSize = settings.MaxReceiveMessageSize,
        MaxSendMessageSize = settings.MaxSendMessageSize,
        MaxRetryAttempts = 0,
    };
}

/// <summary>How a channel connects and what it accepts.</summary>
public sealed record ChannelSettings
{
    /// <summary>Longest wait for a connection (a peer that does not accept within the detection timeout is down anyway). Default 2 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Largest reply accepted. Default 4 MiB (a view with every module's bucket table fits many times).</summary>
    public int MaxReceiveMessageSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>Largest request sent. Default 2 MiB (a config apply is at most 1 MiB of text).</summary>
    public int MaxSendMessageSize { get; init; } = 2 * 1024 * 1024;

    /// <summary>Called (quickly, no I/O) each time a TCP connection to the server is established; TCP channels only.</summary>
    public Action? Connected { get; init; }

    /// <summary>TLS client options (server name, certificate validation, client certificate); null for h2c.</summary>
    public SslClientAuthenticationOptions? Tls { get; init; }

    /// <summary>Records the channel's TCP connection so that its owner can drop it (TCP channels only); one per channel.</summary>
    public ConnectionTracker? Connection { get; init; }
}

/// <summary>
/// The TCP connection a channel's HTTP/2 calls share, so that its owner can drop it and have the next call open a new
/// one. Why: a connection whose packets were dropped for a while (a partition, a cut link) sits in TCP's retransmission
/// back-off after the path is back (200 ms, 400 ms, 800 ms, ... between attempts), and every call multiplexed on it
/// waits for the next retransmission: measured, a farm healed from a 1.5 s partition waited ~1.5 s more before its
/// nodes' calls went through again. A new connection's SYN goes out at once.
/// </summary>
public sealed class ConnectionTracker
{
    private Socket? current;
    private int resets;

    /// <summary>Times <see cref="Reset"/> dropped a connection.</summary>
    public int Resets => Volatile.Read(ref resets);

    /// <summary>Closes the current connection at once (RST, nothing more is sent on it): the calls on it fail and the channel
    /// opens a new connection for the next call. False when no connection was open.</summary>
    public bool Reset()
    {
        var socket = Interlocked.Exchange(ref current, null);
        if (socket is null)
        {
            return false;
        }

        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed: disposing is all that is left.
        }

        socket.Dispose();
        Interlocked.Increment(ref resets);
        return true;
    }

    /// <summary>The channel's connect callback hands over each connection it opened (the latest is the one in use).</summary>
    public void Opened(Socket socket) => Volatile.Write(ref current, socket ?? throw new ArgumentNullException(nameof(socket)));
}

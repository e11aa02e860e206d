using System.Net;
using System.Net.Sockets;
using Farm.Core.Config;

namespace Farm.Modules.Checkers;

/// <summary><c>type: tcp</c>: up when a TCP connection to address:port opens.</summary>
internal sealed class TcpChecker(TcpCheckerConfig config) : IChecker
{
    public async Task<CheckResult> CheckAsync(CancellationToken cancellationToken)
    {
        string target = $"{config.Address}:{config.Port}";
        try
        {
            IPAddress[] addresses = IPAddress.TryParse(config.Address, out var ip)
                ? [ip]
                : await Dns.GetHostAddressesAsync(config.Address, cancellationToken);
            if (addresses.Length == 0)
            {
                return CheckResult.Fail($"{config.Address} has no address");
            }

            using var socket = new Socket(addresses[0].AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(addresses[0], config.Port, cancellationToken);
            return CheckResult.Pass($"connected to {target}");
        }
        catch (SocketException ex)
        {
            return CheckResult.Fail($"connect to {target}: {Describe(ex.SocketErrorCode, ex.Message)}");
        }
    }

    internal static string Describe(SocketError error, string message) => error switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.TimedOut => "timed out",
        SocketError.HostUnreachable => "host unreachable",
        SocketError.NetworkUnreachable => "network unreachable",
        SocketError.HostNotFound => "host not found",
        _ => message,
    };
}

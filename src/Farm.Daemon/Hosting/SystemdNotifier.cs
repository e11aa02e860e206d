using System.Net.Sockets;
using System.Text;

namespace Farm.Daemon.Hosting;

/// <summary>sd_notify without libsystemd: one datagram to <c>$NOTIFY_SOCKET</c> (a leading '@' names an abstract socket).</summary>
internal static class SystemdNotifier
{
    /// <summary>Sends <paramref name="state"/> (e.g. <c>READY=1</c>); false when not under systemd or the send failed.</summary>
    public static bool Notify(string? socketPath, string state)
    {
        if (string.IsNullOrEmpty(socketPath))
        {
            return false;
        }

        string path = socketPath[0] == '@' ? "\0" + socketPath[1..] : socketPath;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.SendTo(Encoding.UTF8.GetBytes(state), new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

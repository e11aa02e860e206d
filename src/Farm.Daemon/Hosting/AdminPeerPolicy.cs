using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Farm.Daemon.Hosting;

/// <summary>
/// Who may call farmd over its admin socket: root, the user farmd runs as, and (when configured) members of the admin
/// group, by the credentials the kernel records for the connecting process (SO_PEERCRED, SO_PEERGROUPS). Calls over the
/// socket need no key, so this check, not only the socket's mode, is what keeps other local users out.
/// </summary>
internal sealed partial class AdminPeerPolicy(uint selfUid, uint? adminGid, ILogger logger)
{
    // Linux (asm-generic, x86-64 and arm64): SOL_SOCKET, SO_PEERCRED (struct ucred), SO_PEERGROUPS (gid_t[]).
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;
    private const int SoPeerGroups = 59;

    /// <summary>The admin group's gid, or null when only root (and farmd's user) may call.</summary>
    public uint? AdminGid { get; } = adminGid;

    /// <summary>The pure rule: root, farmd's own user, or the admin group as primary or supplementary group.</summary>
    public static bool Allows(uint uid, uint gid, IReadOnlyCollection<uint> groups, uint selfUid, uint? adminGid) =>
        uid == 0 || uid == selfUid || (adminGid is { } admin && (gid == admin || groups.Contains(admin)));

    /// <summary>The connecting process's pid, uid and gid (SO_PEERCRED), or null when the socket has none (not a Unix socket).</summary>
    public static (int Pid, uint Uid, uint Gid)? CredentialsOf(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Span<byte> ucred = stackalloc byte[12];
        try
        {
            return socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred) == 12
                ? (MemoryMarshal.Read<int>(ucred), MemoryMarshal.Read<uint>(ucred[4..]), MemoryMarshal.Read<uint>(ucred[8..]))
                : null;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>The connecting process's supplementary groups (SO_PEERGROUPS, Linux 4.13+); empty when unknown.</summary>
    public static uint[] GroupsOf(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        byte[] buffer = new byte[4 * 4096];
        try
        {
            int length = socket.GetRawSocketOption(SolSocket, SoPeerGroups, buffer);
            return MemoryMarshal.Cast<byte, uint>(buffer.AsSpan(0, length - (length % 4))).ToArray();
        }
        catch (SocketException)
        {
            return [];
        }
    }

    /// <summary>Whether the process at the other end of <paramref name="socket"/> may call; <paramref name="who"/> names it for logs.</summary>
    public bool Allows(Socket socket, out string who)
    {
        if (CredentialsOf(socket) is not { } peer)
        {
            who = "a peer without credentials";
            return false;
        }

        who = $"pid {peer.Pid} uid {peer.Uid} gid {peer.Gid}";
        // Supplementary groups matter only when the primary ones do not decide.
        return Allows(peer.Uid, peer.Gid, [], selfUid, AdminGid) || (AdminGid is not null && Allows(peer.Uid, peer.Gid, GroupsOf(socket), selfUid, AdminGid));
    }

    /// <summary>
    /// Kestrel connection middleware for the admin socket's listener: closes a connection of a caller this policy does
    /// not allow before any byte of it is read.
    /// </summary>
    public Func<ConnectionDelegate, ConnectionDelegate> Middleware => next => async connection =>
    {
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        string who = "a connection without a socket";
        if (socket is null || !Allows(socket, out who))
        {
            Log.Refused(logger, who, AdminGid is { } gid ? $"root or group {gid}" : "root");
            connection.Abort(new ConnectionAbortedException("not allowed to use the admin socket"));
            return;
        }

        await next(connection);
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "Admin socket: refused {Peer} (only {Allowed} may call)")]
        public static partial void Refused(ILogger logger, string peer, string allowed);
    }
}

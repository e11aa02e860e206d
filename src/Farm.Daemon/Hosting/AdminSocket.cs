using System.Net.Sockets;
using Farm.Native.Linux;
using Microsoft.AspNetCore.Connections;

namespace Farm.Daemon.Hosting;

/// <summary>
/// Prepares, guards and cleans up the admin socket. Calls over it need no key, so three layers keep other local users
/// out: its folder is farmd's own and closed to others from before the bind (the socket's mode right after the bind does
/// not matter then); the socket itself is 0600 (0660 and the admin group's with an admin group); and every connection's
/// peer credentials are checked (<see cref="AdminPeerPolicy"/>).
/// </summary>
internal static class AdminSocket
{
    /// <summary>
    /// Creates the socket's folder if missing (0700, or 0750 and the admin group's), checks that it is farmd's own, not
    /// writable by group or others and closed to others, and removes a stale socket file; returns an error message when
    /// any of that fails or when another farmd still listens there.
    /// </summary>
    public static string? Prepare(string path) => Prepare(path, null, StatxFileInspector.Instance);

    /// <inheritdoc cref="Prepare(string)"/>
    public static string? Prepare(string path, uint? adminGid) => Prepare(path, adminGid, StatxFileInspector.Instance);

    /// <inheritdoc cref="Prepare(string)"/>
    public static string? Prepare(string path, uint? adminGid, IFileInspector files)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(files);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null && !OperatingSystem.IsWindows() && FolderProblem(dir, adminGid, files) is { } problem)
        {
            return problem;
        }

        if (!File.Exists(path))
        {
            return null;
        }

        if (IsListening(path))
        {
            return $"another process listens on the admin socket {path} (is farmd already running?)";
        }

        try
        {
            File.Delete(path); // left over from a crash: Kestrel cannot bind while the file exists
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"cannot remove the stale admin socket {path}: {ex.Message}";
        }
    }

    /// <summary>
    /// Sets the socket's final mode: 0600, or 0660 and group <paramref name="adminGid"/> so its members can connect.
    /// Until this runs the folder keeps others out.
    /// </summary>
    public static void Restrict(string path, uint? adminGid = null)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        if (adminGid is { } gid)
        {
            UnixGroups.SetGroup(path, gid);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        }
        else
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>
    /// The connection middleware of the admin socket's Kestrel listener (<c>ListenOptions.Use</c>): only root, farmd's
    /// own user and the admin group may call.
    /// </summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> PeerCheck(uint? adminGid, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        return new AdminPeerPolicy(StatxFileInspector.Instance.EffectiveUid, adminGid, loggerFactory.CreateLogger<AdminPeerPolicy>()).Middleware;
    }

    /// <summary>Removes the socket file if present.</summary>
    public static void Remove(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // best effort on the way out; the next start removes it
        }
    }

    /// <summary>Why <paramref name="dir"/> cannot hold the admin socket (after creating it when missing), or null.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static string? FolderProblem(string dir, uint? adminGid, IFileInspector files)
    {
        try
        {
            if (!Directory.Exists(dir))
            {
                var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
                Directory.CreateDirectory(dir, adminGid is null ? mode : mode | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
                if (adminGid is { } gid)
                {
                    UnixGroups.SetGroup(dir, gid);
                }
            }

            if (files.Inspect(dir) is not { } facts)
            {
                return $"the folder of the admin socket {dir} vanished while it was being created";
            }

            string fix = adminGid is null ? $"chmod 700 {dir}" : $"chmod 750 {dir}; chgrp {adminGid} {dir}";
            if (FileTrust.PrivateDirectoryProblem(facts, files.EffectiveUid) is { } problem)
            {
                return $"the folder of the admin socket must be farmd's own: {problem} (or use --admin-socket in a folder of its own, e.g. /run/farm/farmd.sock)";
            }

            const UnixFileMode Others = UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
            const UnixFileMode Group = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute;
            bool groupOk = (facts.Mode & Group) == 0 || (adminGid is { } admin && facts.GroupGid == admin);
            if ((facts.Mode & Others) != 0 || !groupOk)
            {
                return $"the folder of the admin socket {dir} must be closed to others (mode {FileTrust.Octal(facts.Mode)}): run '{fix}', "
                    + "or use --admin-socket in a folder of its own, e.g. /run/farm/farmd.sock";
            }

            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"cannot create the folder of the admin socket {dir}: {ex.Message} (use --admin-socket PATH)";
        }
    }

    private static bool IsListening(string path)
    {
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

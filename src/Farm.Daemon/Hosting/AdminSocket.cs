using System.Net.Sockets;

namespace Farm.Daemon.Hosting;

/// <summary>Prepares and cleans up the admin socket's file.</summary>
internal static class AdminSocket
{
    /// <summary>
    /// Creates the socket's directory if missing (mode 0750, so the moment between bind and chmod exposes nothing) and
    /// removes a stale socket file; returns an error message when another farmd still listens there.
    /// </summary>
    public static string? Prepare(string path)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null && !Directory.Exists(dir))
        {
            try
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(dir);
                }
                else
                {
                    Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return $"cannot create the directory of the admin socket {path}: {ex.Message} (use --admin-socket PATH)";
            }
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
    /// Restricts the socket to its owner: over it, admin calls need no key. Until this runs the socket has the umask's
    /// mode; connecting needs write permission, which the usual umask (022) already denies to others.
    /// </summary>
    public static void Restrict(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
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

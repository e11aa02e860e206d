using System.Runtime.Versioning;

namespace Farm.Native.Linux;

/// <summary>
/// Marks this process's sockets close-on-exec. .NET opens its own descriptors with O_CLOEXEC; native libraries may not
/// (libnftables' netlink socket): a child process would inherit those. Walks <c>/proc/self/fd</c>.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class CloseOnExec
{
    /// <summary>Sets FD_CLOEXEC on every socket descriptor above 2 that lacks it; descriptors closed meanwhile are skipped.</summary>
    /// <returns>How many descriptors were changed.</returns>
    public static int MarkSockets()
    {
        int changed = 0;
        foreach (string entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out int fd) || fd <= 2)
            {
                continue;
            }

            string? target;
            try
            {
                target = new FileInfo(entry).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed meanwhile
            }

            if (target is null || !target.StartsWith("socket:", StringComparison.Ordinal))
            {
                continue;
            }

            int flags = LibC.Fcntl(fd, LibC.FGetFd, 0);
            if (flags >= 0 && (flags & LibC.FdCloExec) == 0 && LibC.Fcntl(fd, LibC.FSetFd, flags | LibC.FdCloExec) == 0)
            {
                changed++;
            }
        }

        return changed;
    }
}

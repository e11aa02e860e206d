using System.Runtime.InteropServices;

namespace Farm.Native.Linux;

/// <summary>libc file-status entry points (statx(2): one struct layout on every architecture).</summary>
internal static partial class LibC
{
    /// <summary>statx dirfd: relative paths start at the working directory.</summary>
    internal const int AtFdCwd = -100;

    /// <summary>statx flag: inspect a symbolic link itself.</summary>
    internal const int AtSymlinkNoFollow = 0x100;

    /// <summary>statx mask: type, mode, uid, gid (STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID).</summary>
    internal const uint StatxOwnerAndMode = 0x1 | 0x2 | 0x8 | 0x10;

    /// <summary>Size of struct statx.</summary>
    internal const int StatxSize = 256;

    /// <summary>statx(2): fills <paramref name="buffer"/> (struct statx, 256 bytes); uid at 20, gid at 24, u16 mode at 28.</summary>
    [LibraryImport(Library, EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    /// <summary>fcntl(2) F_GETFD / F_SETFD and the FD_CLOEXEC flag.</summary>
    internal const int FGetFd = 1;

    /// <summary>fcntl(2) F_SETFD.</summary>
    internal const int FSetFd = 2;

    /// <summary>FD_CLOEXEC: the descriptor is closed on exec.</summary>
    internal const int FdCloExec = 1;

    /// <summary>fcntl(2) with an int argument.</summary>
    [LibraryImport(Library, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int Fcntl(int fd, int cmd, int arg);

    /// <summary>geteuid(2).</summary>
    [LibraryImport(Library, EntryPoint = "geteuid")]
    internal static partial uint GetEffectiveUid();

    /// <summary>chown(2): <c>uint.MaxValue</c> (-1) leaves the owner or the group as it is.</summary>
    [LibraryImport(Library, EntryPoint = "chown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Chown(string path, uint owner, uint group);

    /// <summary>getgrnam_r(3): the group entry of <paramref name="name"/>; <paramref name="result"/> is null when there is none.</summary>
    [LibraryImport(Library, EntryPoint = "getgrnam_r", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int GetGroupByName(string name, byte* group, byte* buffer, nuint bufferLength, byte** result);

    /// <summary>rename(2): atomically replaces <paramref name="newPath"/> (a file or a symbolic link, never followed) with <paramref name="oldPath"/>.</summary>
    [LibraryImport(Library, EntryPoint = "rename", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Rename(string oldPath, string newPath);
}

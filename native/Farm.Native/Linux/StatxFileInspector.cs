using System.Runtime.InteropServices;
using Farm.Core.Security;

namespace Farm.Native.Linux;

/// <summary><see cref="IFileInspector"/> over statx(2).</summary>
internal sealed class StatxFileInspector : IFileInspector
{
    private const int ENoEnt = 2;
    private const int ENotDir = 20;

    // File type bits of st_mode.
    private const int TypeMask = 0xf000;
    private const int TypeRegular = 0x8000;
    private const int TypeDirectory = 0x4000;
    private const int TypeLink = 0xa000;

    /// <summary>The inspector of this process.</summary>
    public static StatxFileInspector Instance { get; } = new();

    public uint EffectiveUid => OperatingSystem.IsLinux() ? LibC.GetEffectiveUid() : 0;

    public unsafe FileFacts? Inspect(string path, bool followLinks = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte* buffer = stackalloc byte[LibC.StatxSize];
        if (LibC.Statx(LibC.AtFdCwd, path, followLinks ? 0 : LibC.AtSymlinkNoFollow, LibC.StatxOwnerAndMode, buffer) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno is ENoEnt or ENotDir
                ? null
                : throw new IOException($"cannot inspect {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        var stat = new ReadOnlySpan<byte>(buffer, LibC.StatxSize);
        // Native byte order, like every field of struct statx.
        uint uid = MemoryMarshal.Read<uint>(stat[20..]);
        uint gid = MemoryMarshal.Read<uint>(stat[24..]);
        int mode = MemoryMarshal.Read<ushort>(stat[28..]);
        var kind = (mode & TypeMask) switch
        {
            TypeRegular => FileKind.Regular,
            TypeDirectory => FileKind.Directory,
            TypeLink => FileKind.SymbolicLink,
            _ => FileKind.Other,
        };
        return new FileFacts(path, uid, gid, (UnixFileMode)(mode & 0xfff), kind);
    }
}

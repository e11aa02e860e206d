using System.Runtime.InteropServices;

namespace Farm.Native.Linux;

/// <summary>Owns one file descriptor (here: a netlink socket) that .NET did not open; closed with close(2).</summary>
internal sealed class FileDescriptorHandle : SafeHandle
{
    /// <summary>Takes ownership of <paramref name="fd"/>.</summary>
    public FileDescriptorHandle(int fd)
        : base(new nint(-1), ownsHandle: true) => SetHandle(fd);

    /// <inheritdoc />
    public override bool IsInvalid => handle == -1;

    /// <inheritdoc />
    protected override bool ReleaseHandle() => LibC.Close((int)handle) == 0;
}

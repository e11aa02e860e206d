using System.Runtime.InteropServices;

namespace Farm.Native.Linux;

/// <summary>libc socket entry points for sockets .NET's <c>Socket</c> cannot create (AF_NETLINK); use <see cref="NetlinkSocket"/>.</summary>
/// <remarks>
/// Constants are the Linux values shared by x86-64 and arm64 (the generic ABI). File descriptors are passed as a
/// <see cref="SafeHandle"/>, as <see cref="SetNs"/> does: the marshaller keeps the handle alive during the call, and the
/// 64-bit calling conventions pass the int in a full register.
/// </remarks>
internal static partial class LibC
{
    /// <summary>AF_NETLINK: kernel/user message sockets.</summary>
    internal const int AfNetlink = 16;

    /// <summary>SOCK_RAW: netlink sockets are raw datagram sockets.</summary>
    internal const int SockRaw = 3;

    /// <summary>SOCK_CLOEXEC: the fd never leaks into child processes (scripts, ip, nft).</summary>
    internal const int SockCloexec = 0x80000;

    /// <summary>SOL_SOCKET level for <see cref="SetSockOpt"/>.</summary>
    internal const int SolSocket = 1;

    /// <summary>SO_RCVTIMEO: a blocking receive fails with EAGAIN after this long (struct timeval).</summary>
    internal const int SoRcvTimeo = 20;

    /// <summary>SO_RCVBUF: the socket's receive buffer limit (the kernel doubles the value set; capped by net.core.rmem_max).</summary>
    internal const int SoRcvBuf = 8;

    /// <summary>SO_RCVBUFFORCE: as <see cref="SoRcvBuf"/>, past net.core.rmem_max; needs CAP_NET_ADMIN.</summary>
    internal const int SoRcvBufForce = 33;

    /// <summary>SOL_NETLINK level for <see cref="SetSockOpt"/>.</summary>
    internal const int SolNetlink = 270;

    /// <summary>NETLINK_CAP_ACK: error replies do not echo the whole request.</summary>
    internal const int NetlinkCapAck = 10;

    /// <summary>NETLINK_EXT_ACK: error replies may carry the kernel's explanation (NLMSGERR_ATTR_MSG).</summary>
    internal const int NetlinkExtAck = 11;

    /// <summary>recv flag MSG_TRUNC: on netlink, the return value is the datagram's real length even if the buffer was shorter.</summary>
    internal const int MsgTrunc = 0x20;

    /// <summary>recv flag MSG_DONTWAIT: fail with EAGAIN at once instead of waiting when nothing is queued.</summary>
    internal const int MsgDontWait = 0x40;

    /// <summary>errno EINTR: interrupted by a signal.</summary>
    internal const int EIntr = 4;

    /// <summary>errno EAGAIN: the receive timeout expired.</summary>
    internal const int EAgain = 11;

    /// <summary>errno ENOBUFS: the socket's receive queue overflowed and messages were lost.</summary>
    internal const int ENoBufs = 105;

    /// <summary>struct sockaddr_nl: family, pad, port id (0 = the kernel / let the kernel choose), multicast groups.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct SockAddrNetlink
    {
        public ushort Family;
        public ushort Pad;
        public uint PortId;
        public uint Groups;
    }

    /// <summary>struct timeval on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct TimeVal
    {
        public long Seconds;
        public long Microseconds;
    }

    /// <summary>socket(2): returns the new fd or -1.</summary>
    [LibraryImport(Library, EntryPoint = "socket", SetLastError = true)]
    internal static partial int Socket(int domain, int type, int protocol);

    /// <summary>bind(2).</summary>
    [LibraryImport(Library, EntryPoint = "bind", SetLastError = true)]
    internal static unsafe partial int Bind(SafeHandle fd, SockAddrNetlink* address, uint addressLength);

    /// <summary>sendto(2): returns the bytes sent or -1.</summary>
    [LibraryImport(Library, EntryPoint = "sendto", SetLastError = true)]
    internal static unsafe partial nint SendTo(SafeHandle fd, byte* buffer, nuint length, int flags, SockAddrNetlink* address, uint addressLength);

    /// <summary>recv(2): returns the bytes received (with MSG_TRUNC on netlink: the datagram's length) or -1.</summary>
    [LibraryImport(Library, EntryPoint = "recv", SetLastError = true)]
    internal static unsafe partial nint Recv(SafeHandle fd, byte* buffer, nuint length, int flags);

    /// <summary>setsockopt(2).</summary>
    [LibraryImport(Library, EntryPoint = "setsockopt", SetLastError = true)]
    internal static unsafe partial int SetSockOpt(SafeHandle fd, int level, int name, void* value, uint valueLength);

    /// <summary>getsockopt(2).</summary>
    [LibraryImport(Library, EntryPoint = "getsockopt", SetLastError = true)]
    internal static unsafe partial int GetSockOpt(SafeHandle fd, int level, int name, void* value, uint* valueLength);

    /// <summary>close(2) of a raw fd; only <see cref="FileDescriptorHandle"/> calls it.</summary>
    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);
}

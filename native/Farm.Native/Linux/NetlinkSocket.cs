using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Farm.Native.Linux;

/// <summary>
/// A raw netlink socket bound to a kernel-assigned port id, talking to the kernel only: send a request, receive the
/// reply datagrams. Every failure is a <see cref="NetlinkException"/> that names the call and errno.
/// </summary>
/// <remarks>
/// The socket lives in the network namespace of the thread that called <see cref="Open"/>, whatever thread uses it
/// later. Not thread-safe: one request/reply exchange at a time.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class NetlinkSocket : IDisposable
{
    /// <summary>NETLINK_NETFILTER: nfnetlink (ctnetlink, nf_tables, ...).</summary>
    public const int NetfilterProtocol = 12;

    private readonly FileDescriptorHandle handle;

    private NetlinkSocket(FileDescriptorHandle handle, TimeSpan receiveTimeout, int receiveBufferSize)
    {
        this.handle = handle;
        ReceiveTimeout = receiveTimeout;
        ReceiveBufferSize = receiveBufferSize;
    }

    /// <summary>How long <see cref="Receive"/> waits for a datagram before it fails with EAGAIN.</summary>
    public TimeSpan ReceiveTimeout { get; }

    /// <summary>
    /// The receive buffer limit in effect (SO_RCVBUF as the kernel reports it): how many bytes of datagrams, kernel
    /// overhead included, may wait in the receive queue before the kernel drops more (ENOBUFS).
    /// </summary>
    public int ReceiveBufferSize { get; }

    /// <summary>Opens and binds a netlink socket of <paramref name="protocol"/> with a receive timeout.</summary>
    /// <param name="protocol">The netlink family, e.g. <see cref="NetfilterProtocol"/>.</param>
    /// <param name="receiveTimeout">How long a <see cref="Receive"/> waits.</param>
    /// <param name="receiveBufferSize">
    /// When positive, the receive buffer to ask for (SO_RCVBUFFORCE, which needs CAP_NET_ADMIN, else SO_RCVBUF up to
    /// net.core.rmem_max; the kernel doubles it). Best effort: <see cref="ReceiveBufferSize"/> tells what was granted.
    /// </param>
    /// <exception cref="NetlinkException">socket(), bind() or setsockopt() failed.</exception>
    public static NetlinkSocket Open(int protocol, TimeSpan receiveTimeout, int receiveBufferSize = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(receiveTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegative(receiveBufferSize);
        int fd = LibC.Socket(LibC.AfNetlink, LibC.SockRaw | LibC.SockCloexec, protocol);
        if (fd < 0)
        {
            throw Failure("socket(AF_NETLINK, SOCK_RAW, " + protocol.ToString(CultureInfo.InvariantCulture) + ")");
        }

        var handle = new FileDescriptorHandle(fd);
        try
        {
            var local = new LibC.SockAddrNetlink { Family = LibC.AfNetlink };
            if (LibC.Bind(handle, &local, (uint)sizeof(LibC.SockAddrNetlink)) != 0)
            {
                throw Failure("bind(AF_NETLINK)");
            }

            long micros = (long)Math.Ceiling(receiveTimeout.TotalMicroseconds);
            var timeout = new LibC.TimeVal { Seconds = micros / 1_000_000, Microseconds = micros % 1_000_000 };
            if (LibC.SetSockOpt(handle, LibC.SolSocket, LibC.SoRcvTimeo, &timeout, (uint)sizeof(LibC.TimeVal)) != 0)
            {
                throw Failure("setsockopt(SO_RCVTIMEO)");
            }

            // Best effort (kernels before 4.12 lack EXT_ACK): short error replies that carry the kernel's own reason.
            int on = 1;
            _ = LibC.SetSockOpt(handle, LibC.SolNetlink, LibC.NetlinkCapAck, &on, sizeof(int));
            _ = LibC.SetSockOpt(handle, LibC.SolNetlink, LibC.NetlinkExtAck, &on, sizeof(int));

            if (receiveBufferSize > 0 && LibC.SetSockOpt(handle, LibC.SolSocket, LibC.SoRcvBufForce, &receiveBufferSize, sizeof(int)) != 0)
            {
                _ = LibC.SetSockOpt(handle, LibC.SolSocket, LibC.SoRcvBuf, &receiveBufferSize, sizeof(int));
            }

            int granted = 0;
            uint grantedLength = sizeof(int);
            if (LibC.GetSockOpt(handle, LibC.SolSocket, LibC.SoRcvBuf, &granted, &grantedLength) != 0)
            {
                throw Failure("getsockopt(SO_RCVBUF)");
            }

            return new NetlinkSocket(handle, receiveTimeout, granted);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Sends one request datagram (one or more netlink messages) to the kernel.</summary>
    /// <exception cref="NetlinkException">sendto() failed or sent less than the whole datagram.</exception>
    public void Send(ReadOnlySpan<byte> datagram)
    {
        var kernel = new LibC.SockAddrNetlink { Family = LibC.AfNetlink };
        nint sent;
        fixed (byte* data = datagram)
        {
            sent = LibC.SendTo(handle, data, (nuint)datagram.Length, 0, &kernel, (uint)sizeof(LibC.SockAddrNetlink));
        }

        if (sent < 0)
        {
            throw Failure("sendto(netlink)");
        }

        if (sent != datagram.Length)
        {
            throw new NetlinkException($"sendto(netlink) sent {sent} of {datagram.Length} bytes.");
        }
    }

    /// <summary>
    /// Receives one datagram into <paramref name="buffer"/> and returns its length, which exceeds the buffer's when
    /// the datagram did not fit (the rest is lost). A receive interrupted by a signal is repeated once.
    /// </summary>
    /// <exception cref="NetlinkException">recv() failed: errno EAGAIN when nothing came within <see cref="ReceiveTimeout"/>, ENOBUFS when the kernel dropped messages.</exception>
    public int Receive(Span<byte> buffer)
    {
        nint received = Recv(buffer, LibC.MsgTrunc, out int errno);
        if (received >= 0)
        {
            return (int)received;
        }

        throw errno == LibC.EAgain
            ? new NetlinkException($"No netlink answer from the kernel within {ReceiveTimeout.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms.", errno)
            : Failure(errno, "recv(netlink)");
    }

    /// <summary>
    /// Receives one datagram if one is queued, without waiting: true and its length (as <see cref="Receive"/>), or
    /// false when the receive queue is empty.
    /// </summary>
    /// <exception cref="NetlinkException">recv() failed other than for an empty queue; ENOBUFS when the kernel dropped messages.</exception>
    public bool TryReceive(Span<byte> buffer, out int length)
    {
        nint received = Recv(buffer, LibC.MsgTrunc | LibC.MsgDontWait, out int errno);
        if (received >= 0)
        {
            length = (int)received;
            return true;
        }

        length = 0;
        if (errno != LibC.EAgain)
        {
            throw Failure(errno, "recv(netlink, MSG_DONTWAIT)");
        }

        return false;
    }

    /// <inheritdoc />
    public void Dispose() => handle.Dispose();

    /// <summary>One recv(); a call interrupted by a signal is repeated once. Returns the length, or -1 and the errno.</summary>
    private nint Recv(Span<byte> buffer, int flags, out int errno)
    {
        for (int attempt = 0; ; attempt++)
        {
            nint received;
            fixed (byte* data = buffer)
            {
                received = LibC.Recv(handle, data, (nuint)buffer.Length, flags);
            }

            errno = received >= 0 ? 0 : Marshal.GetLastPInvokeError();
            if (errno != LibC.EIntr || attempt > 0)
            {
                return received;
            }
        }
    }

    private static NetlinkException Failure(string call) => Failure(Marshal.GetLastPInvokeError(), call);

    private static NetlinkException Failure(int errno, string call) =>
        new($"{call} failed: errno {errno.ToString(CultureInfo.InvariantCulture)} ({Marshal.GetPInvokeErrorMessage(errno)}).", errno);
}

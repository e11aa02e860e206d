namespace Farm.Native.Linux;

/// <summary>A netlink socket call failed, or the kernel answered a netlink request with an error; <see cref="Errno"/> says which.</summary>
public sealed class NetlinkException : IOException
{
    /// <summary>Creates an exception for <paramref name="errno"/> (positive, as in errno.h) with a message that names the operation.</summary>
    public NetlinkException(string message, int errno)
        : base(message) => Errno = errno;

    /// <summary>Creates an exception without errno.</summary>
    public NetlinkException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an empty exception.</summary>
    public NetlinkException()
    {
    }

    /// <summary>Creates an exception wrapping another.</summary>
    public NetlinkException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The positive errno value (e.g. 1 for EPERM), 0 when none applies.</summary>
    public int Errno { get; }
}

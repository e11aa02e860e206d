namespace Farm.Native.Linux;

/// <summary>libpcap reported an error; the message carries pcap's own text.</summary>
public sealed class PcapException : Exception
{
    /// <summary>Creates an exception with pcap's error text.</summary>
    public PcapException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an empty exception.</summary>
    public PcapException()
    {
    }

    /// <summary>Creates an exception wrapping another.</summary>
    public PcapException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

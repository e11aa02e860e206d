namespace Farm.Native.Linux;

/// <summary>libnftables rejected a command; <see cref="Exception.Message"/> carries nft's own error text.</summary>
public sealed class NftablesException : Exception
{
    /// <summary>Creates an exception with nft's error text.</summary>
    public NftablesException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with nft's error text and the command that failed.</summary>
    public NftablesException(string message, string command)
        : base(message)
    {
        Command = command;
    }

    /// <summary>Creates an empty exception.</summary>
    public NftablesException()
    {
    }

    /// <summary>Creates an exception wrapping another.</summary>
    public NftablesException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The nft command text that failed, when known.</summary>
    public string? Command { get; }
}

namespace Farm.Cli.Admin;

/// <summary>An admin call failed for a reason the operator can act on; the message says what happened and what to do.</summary>
internal sealed class AdminCallException : Exception
{
    public AdminCallException()
    {
    }

    public AdminCallException(string message)
        : base(message)
    {
    }

    public AdminCallException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

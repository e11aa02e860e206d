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

    /// <summary>
    /// Why reading a file failed, in a few words: no such file, <paramref name="denied"/> when access was refused, or
    /// the error's own message.
    /// </summary>
    public static string ReadFailure(Exception ex, string denied = "permission denied")
    {
        ArgumentNullException.ThrowIfNull(ex);
        return ex switch
        {
            FileNotFoundException or DirectoryNotFoundException => "no such file",
            UnauthorizedAccessException => denied,
            _ => ex.Message,
        };
    }
}

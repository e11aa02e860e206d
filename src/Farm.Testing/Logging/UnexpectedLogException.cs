namespace Farm.Testing.Logging;

/// <summary>A test logged warnings or errors it did not expect (thrown by <see cref="TestLogSink"/>'s checks).</summary>
public sealed class UnexpectedLogException : Exception
{
    public UnexpectedLogException()
    {
    }

    public UnexpectedLogException(string message)
        : base(message)
    {
    }

    public UnexpectedLogException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

namespace Farm.DataPlane.Runtime;

/// <summary>The data plane cannot run on this machine at all (not root, a library missing); farmd does not start.</summary>
public sealed class DataPlaneUnavailableException : InvalidOperationException
{
    /// <summary>Creates the exception with a default message.</summary>
    public DataPlaneUnavailableException()
        : base("The data plane cannot run here.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public DataPlaneUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and its cause.</summary>
    public DataPlaneUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

namespace Farm.Daemon.ModuleHosting;

/// <summary>A bundle was refused or could not be installed, rolled back or removed; the message says why and what to do. Nothing changed.</summary>
internal sealed class ModuleStoreException : Exception
{
    public ModuleStoreException()
    {
    }

    public ModuleStoreException(string message)
        : base(message)
    {
    }

    public ModuleStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

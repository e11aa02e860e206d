namespace Farm.Daemon.ModuleHosting;

/// <summary>What an admin asks of a module on this node.</summary>
internal enum ModuleAdminAction
{
    /// <summary>Start a stopped module.</summary>
    Start,

    /// <summary>Stop it until the next start.</summary>
    Stop,

    /// <summary>Full stop, then full start.</summary>
    Restart,
}

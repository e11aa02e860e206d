namespace Farm.Modules.State;

/// <summary>An administrator's (or the daemon's) request to a module.</summary>
internal enum AdminAction
{
    /// <summary>Start a stopped module; also resets the recovery count.</summary>
    Start,

    /// <summary>Stop the module until the next start.</summary>
    Stop,

    /// <summary>Full stop then full start; also resets the recovery count.</summary>
    Restart,
}

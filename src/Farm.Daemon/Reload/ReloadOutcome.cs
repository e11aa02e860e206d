namespace Farm.Daemon.Reload;

/// <summary>What became of a new cluster file on this node.</summary>
internal enum ReloadOutcome
{
    /// <summary>Now running (and, for an admin apply, written over the node's cluster file); the new weight is announced.</summary>
    Applied,

    /// <summary>The node already runs this version with these weights: nothing done.</summary>
    Unchanged,

    /// <summary>Invalid, changes more than weights and version, or not newer: the old file keeps running.</summary>
    Refused,

    /// <summary>Acceptable, but the file could not be read or written: the old file keeps running.</summary>
    Failed,
}

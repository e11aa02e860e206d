namespace Farm.Protocol.Security;

/// <summary>What a web console user may do.</summary>
public enum ConsoleRole
{
    /// <summary>Sees the farm; cannot act.</summary>
    Viewer,

    /// <summary>Sees the farm and acts: drain and resume nodes, start, stop and restart modules, change weights.</summary>
    Operator,
}

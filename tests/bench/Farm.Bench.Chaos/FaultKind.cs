namespace Farm.Bench.Chaos;

/// <summary>The faults the soak injects.</summary>
internal enum FaultKind
{
    /// <summary>SIGKILL to farmd (the app lives on), restarted after the hold.</summary>
    Kill9,

    /// <summary>SIGSTOP to farmd, SIGCONT after the hold.</summary>
    Stop,

    /// <summary>The node's veth (bridge side) down, up after the hold.</summary>
    LinkDown,

    /// <summary>One or two nodes cut from the others on every heartbeat LAN (nft in the node namespaces).</summary>
    Partition,

    /// <summary>20% loss on one heartbeat LAN between all nodes.</summary>
    LanLoss,

    /// <summary>The node's app ends (its sockets close); the module's tcp checker takes it out; the app restarts after the hold.</summary>
    AppCrash,

    /// <summary>The module's custom checker script hangs past its timeout on the node.</summary>
    HungScript,

    /// <summary>The module's custom checker fails and passes in turn every few hundred milliseconds.</summary>
    FlappingChecker,

    /// <summary>farmd stopped gracefully (SIGTERM) and started again.</summary>
    Restart,
}

namespace Farm.Daemon.Envelopes;

/// <summary>Why an envelope was refused.</summary>
internal enum RejectReason
{
    /// <summary>Missing or ill-formed envelope fields (no sender, zero seq, MAC of the wrong length).</summary>
    Malformed,

    /// <summary>The sender is not a node of the cluster file (or not the peer that was called).</summary>
    UnknownSender,

    /// <summary>The MAC does not match: wrong key, tampered bytes, or a message moved to another method.</summary>
    BadMac,

    /// <summary>The timestamp lies outside the accepted clock skew.</summary>
    ClockSkew,

    /// <summary>A run of the sender older than one already heard.</summary>
    OldIncarnation,

    /// <summary>The seq was seen already or fell behind the replay window, or a reply does not answer our request.</summary>
    Replayed,

    /// <summary>An admin call over TCP without a sealed envelope.</summary>
    Unauthenticated,

    /// <summary>Sealed for another node (a message captured on its way elsewhere).</summary>
    WrongRecipient,

    /// <summary>Sealed for an earlier run of this node (answered with a sealed RESEAL refusal, never served).</summary>
    StaleRun,

    /// <summary>Written in a protocol version this node does not speak (e.g. a Farm release before recipient binding).</summary>
    UnsupportedProtocol,

    /// <summary>A TCP connection from an address that is not a node of the cluster file.</summary>
    ForeignAddress,

    /// <summary>With TLS: a membership call whose client certificate is missing or does not name the sender.</summary>
    TlsIdentity,
}

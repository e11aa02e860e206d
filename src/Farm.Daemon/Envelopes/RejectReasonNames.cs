namespace Farm.Daemon.Envelopes;

/// <summary>Stable snake_case names of <see cref="RejectReason"/> for status and logs.</summary>
internal static class RejectReasonNames
{
    public static string Name(this RejectReason reason) => reason switch
    {
        RejectReason.Malformed => "malformed",
        RejectReason.UnknownSender => "unknown_sender",
        RejectReason.BadMac => "bad_mac",
        RejectReason.ClockSkew => "clock_skew",
        RejectReason.OldIncarnation => "old_incarnation",
        RejectReason.Replayed => "replayed",
        RejectReason.Unauthenticated => "unauthenticated",
        RejectReason.WrongRecipient => "wrong_recipient",
        RejectReason.StaleRun => "stale_run",
        RejectReason.UnsupportedProtocol => "unsupported_protocol",
        RejectReason.ForeignAddress => "foreign_address",
        RejectReason.TlsIdentity => "tls_identity",
        _ => reason.ToString(),
    };
}

namespace Farm.Daemon.Envelopes;

/// <summary>How many messages from one source were refused for one reason.</summary>
/// <param name="Source">Remote address of a request, or "reply from NODE".</param>
/// <param name="Reason">Why.</param>
/// <param name="Count">How many so far.</param>
/// <param name="LastClaimedSender">The sender name the last one claimed (unauthenticated: for diagnosis only).</param>
internal sealed record RejectionCounter(string Source, RejectReason Reason, long Count, string LastClaimedSender);

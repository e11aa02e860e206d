namespace Farm.DataPlane.Conntrack;

/// <summary>What one received datagram of a ctnetlink dump said about the dump as a whole.</summary>
/// <param name="Done">The dump's NLMSG_DONE (or a zero-error acknowledgement) was in it: nothing more will come.</param>
/// <param name="Interrupted">The kernel flagged the dump as inconsistent (NLM_F_DUMP_INTR) or reported an overrun: entries may be missing.</param>
internal readonly record struct CtnetlinkProgress(bool Done, bool Interrupted);

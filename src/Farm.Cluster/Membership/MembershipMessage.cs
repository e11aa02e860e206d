namespace Farm.Cluster.Membership;

/// <summary>Base of the protocol's requests and replies (mapped to protobuf messages at the transport edge).</summary>
public abstract record MembershipMessage;

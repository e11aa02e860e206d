namespace Farm.Core.Ownership;

/// <summary>What a node does with the packets of one bucket.</summary>
public enum BucketState : byte
{
    /// <summary>Not this node's bucket: drop.</summary>
    None = 0,

    /// <summary>This node's bucket: accept everything.</summary>
    Owned = 1,

    /// <summary>Taken over while a live node still drains it: accept new flows (not the draining node's UDP flows) and flows this node tracks.</summary>
    Incoming = 2,

    /// <summary>Was this node's, being handed to another: accept only flows this node already tracks, no new ones.</summary>
    Draining = 3,

    /// <summary>
    /// Taken over in the installed view, before every other member has said whether it still drains the bucket: accept
    /// new TCP connections (SYN) and flows this node tracks, but no other packet (a UDP datagram could belong to a flow
    /// the previous owner still serves). Becomes <see cref="Incoming"/> or <see cref="Owned"/> once the members answered.
    /// </summary>
    Claimed = 4,
}

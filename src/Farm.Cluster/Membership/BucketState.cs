namespace Farm.Cluster.Membership;

/// <summary>What a node does with the packets of one bucket.</summary>
public enum BucketState : byte
{
    /// <summary>Not this node's bucket: drop.</summary>
    None = 0,

    /// <summary>This node's bucket: accept everything.</summary>
    Owned = 1,

    /// <summary>Just taken from a live node that is draining it: accept new flows and flows this node tracks.</summary>
    Incoming = 2,

    /// <summary>Was this node's, being handed to another: accept only flows this node already tracks, no new ones.</summary>
    Draining = 3,
}

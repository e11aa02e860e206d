namespace Farm.Bench.Failover;

/// <summary>
/// One SYN-ACK that reached the client namespace (or one SYN the client sent, or the first data a node's app sent, its
/// name): a node accepted a connection attempt. The client's port and the acknowledged sequence number (the client's
/// ISN + 1) identify the attempt; the Ethernet source names the node (replies always leave with the node's own MAC,
/// never the virtual MAC).
/// </summary>
/// <param name="Micros">Kernel capture time, microseconds since the Unix epoch (wall clock).</param>
/// <param name="Client">The client address (IPv4, network order read as big-endian).</param>
/// <param name="Port">The client's port.</param>
/// <param name="Ack">The acknowledgement number (client ISN + 1).</param>
/// <param name="Node">The node whose MAC sent it, or -1 for an unknown MAC.</param>
/// <param name="IsSyn">True for the client's own SYN (then <paramref name="Ack"/> is its sequence number + 1, the key its SYN-ACKs carry).</param>
/// <param name="IsName">True for a segment with data from the node (the app's answer; the client sent no data, so
/// <paramref name="Ack"/> is still the client's ISN + 1).</param>
internal readonly record struct SynAck(long Micros, uint Client, ushort Port, uint Ack, sbyte Node, bool IsSyn = false, bool IsName = false)
{
    /// <summary>A node's SYN-ACK (neither the client's SYN nor data).</summary>
    public bool IsSynAck => !IsSyn && !IsName;
}

namespace Farm.DataPlane.Conntrack;

/// <summary>
/// The kernel's connection tracking table of one network namespace: read as a whole (<see cref="Dump"/>, costly:
/// the kernel walks its whole hash table) or flow by flow (<see cref="Lookup"/>, cheap: one hash lookup per flow), and
/// flows deleted from it (<see cref="Delete"/>).
/// </summary>
public interface IConntrackTable
{
    /// <summary>
    /// Every TCP and UDP entry (IPv4 and IPv6) of the network namespace the table was opened in, at the time of the
    /// call; entries of other protocols are left out. A dump that could not be read completely throws rather than
    /// returning part of the table, so a caller never mistakes a lost entry for a finished connection.
    /// </summary>
    /// <exception cref="IOException">The table could not be read (Linux: <c>Farm.Native.Linux.NetlinkException</c> with errno, or <see cref="InvalidDataException"/> for a reply that cannot be parsed).</exception>
    IReadOnlyList<TrackedFlow> Dump();

    /// <summary>
    /// The current entry of each of <paramref name="flows"/>, found by its original tuple (protocol, source, source
    /// port, destination, destination port; the given <see cref="TrackedFlow.Live"/> plays no part), with its current
    /// liveness; null where the table no longer holds the flow. The answer has one place per flow, in the same order.
    /// Meant for re-checking the flows an earlier <see cref="Dump"/> found: it sees no new flows. Like
    /// <see cref="Dump"/>, it throws rather than guessing an answer it did not get.
    /// </summary>
    /// <exception cref="ArgumentException">A flow is not TCP or UDP, lacks an address, mixes IPv4 and IPv6 or has a port outside 0-65535.</exception>
    /// <exception cref="IOException">The lookups could not be made (as for <see cref="Dump"/>).</exception>
    IReadOnlyList<TrackedFlow?> Lookup(IReadOnlyList<TrackedFlow> flows);

    /// <summary>
    /// Deletes the entry of each of <paramref name="flows"/>, found by its original tuple as in <see cref="Lookup"/>.
    /// The answer has one place per flow, in the same order: the flow where an entry was deleted, null where the table
    /// held none (already gone). After the call the table holds none of them, unless a packet created one again since.
    /// </summary>
    /// <exception cref="ArgumentException">A flow is not TCP or UDP, lacks an address, mixes IPv4 and IPv6 or has a port outside 0-65535.</exception>
    /// <exception cref="IOException">The deletes could not be made (as for <see cref="Dump"/>); some may have been.</exception>
    IReadOnlyList<TrackedFlow?> Delete(IReadOnlyList<TrackedFlow> flows);
}

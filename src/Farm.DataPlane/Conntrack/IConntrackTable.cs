namespace Farm.DataPlane.Conntrack;

/// <summary>The kernel's connection tracking table of one network namespace, read as a whole.</summary>
public interface IConntrackTable
{
    /// <summary>
    /// Every TCP and UDP entry (IPv4 and IPv6) of the network namespace the table was opened in, at the time of the
    /// call; entries of other protocols are left out. A dump that could not be read completely throws rather than
    /// returning part of the table, so a caller never mistakes a lost entry for a finished connection.
    /// </summary>
    /// <exception cref="IOException">The table could not be read (Linux: <c>Farm.Native.Linux.NetlinkException</c> with errno, or <see cref="InvalidDataException"/> for a reply that cannot be parsed).</exception>
    IReadOnlyList<TrackedFlow> Dump();
}

using System.Globalization;
using System.Net;
using System.Text;

namespace Farm.DataPlane.Filtering;

/// <summary>
/// A kernel lease refresh as one nf_tables netlink batch written here, without libnftables: for each VIP, add its
/// element to the lease set, delete it, and add it again with the new timeout (the same three commands as
/// <see cref="NftRuleset.RefreshLease"/>'s text, in one transaction). farmd refreshes its lease 20 times a second; through
/// libnftables each refresh parsed the text and first fetched a cache of the tables, sets and chains from the kernel,
/// ~1.4 % of a core per node (docs/performance.md, "Data path profile: first quiet run"). Here a refresh is one sendto
/// and one reply.
/// </summary>
/// <remarks>The batch's layout: <see cref="NftNetlinkBatch"/>.</remarks>
internal static class NftLeaseBatch
{
    /// <summary>One element of a lease set: the set's name and the VIP.</summary>
    public readonly record struct Element(string Set, IPAddress Address);

    /// <summary>What a lease refresh writes: every VIP's element of table <c>inet Table</c>, to expire in <c>TimeoutMs</c>.</summary>
    public sealed record Refresh(string Table, IReadOnlyList<Element> Elements, long TimeoutMs) : INftSetBatch
    {
        /// <summary>The same refresh as nft commands (dry runs, batches that carry more than the lease, tests).</summary>
        public string Text
        {
            get
            {
                var sb = new StringBuilder();
                foreach (var (set, vip) in Elements)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"add element inet {Table} {set} {{ {vip} }}\n");
                    sb.Append(CultureInfo.InvariantCulture, $"delete element inet {Table} {set} {{ {vip} }}\n");
                    sb.Append(CultureInfo.InvariantCulture, $"add element inet {Table} {set} {{ {vip} timeout {TimeoutMs}ms }}\n");
                }

                return sb.ToString();
            }
        }

        /// <summary>The netlink batch; see <see cref="Build"/>.</summary>
        public (byte[] Datagram, uint Last) Build(uint firstSequence) => NftLeaseBatch.Build(Table, Elements, TimeoutMs, firstSequence);
    }

    /// <summary>
    /// The batch that refreshes <paramref name="elements"/> of table <c>inet <paramref name="table"/></c> to expire
    /// in <paramref name="timeoutMs"/>; messages are numbered from <paramref name="firstSequence"/>. Returns the
    /// datagram and the sequence number whose reply ends the answer.
    /// </summary>
    public static (byte[] Datagram, uint Last) Build(string table, IReadOnlyList<Element> elements, long timeoutMs, uint firstSequence)
    {
        ArgumentException.ThrowIfNullOrEmpty(table);
        ArgumentNullException.ThrowIfNull(elements);
        ArgumentOutOfRangeException.ThrowIfZero(elements.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeoutMs, 1);

        var batch = new NftNetlinkBatch(table, firstSequence, 256 + (elements.Count * 3 * 96));
        foreach (var (set, address) in elements)
        {
            NftNetlinkBatch.Element[] key = [new(address.GetAddressBytes())];
            batch.Add(set, key).Delete(set, key).Add(set, [key[0] with { TimeoutMs = timeoutMs }]);
        }

        return batch.Finish();
    }
}

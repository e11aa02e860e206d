using Farm.Native.Linux;

namespace Farm.Testing.Nftables;

/// <summary>
/// Takes an nftables table away from the program that made it, the way another program on the host could: replaces
/// it, in one transaction, with an exact copy (the same sets with their elements, lease timeouts included, the same
/// chains and rules, so the kernel filters exactly as before) flagged <c>owner</c>. From then on the kernel itself
/// refuses, with EPERM, every change another netlink socket makes to the table: farmd's bucket updates, its lease
/// refreshes, even deleting or recreating the table. <see cref="Dispose"/> closes this process's netlink socket, and
/// the kernel deletes the table with it (an owned table lives only as long as its owner's socket).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class SeizedNftTable : IDisposable
{
    private readonly NftablesContext context;

    private SeizedNftTable(NftablesContext context, string copy)
    {
        this.context = context;
        Copy = copy;
    }

    /// <summary>The nft text of the owned copy that replaced the table.</summary>
    public string Copy { get; }

    /// <summary>
    /// Seizes <paramref name="family"/> <paramref name="table"/> in <paramref name="ns"/>. The netlink socket is opened
    /// on a thread inside the namespace, so the copy lives there.
    /// </summary>
    /// <exception cref="NftablesException">The table does not exist or the kernel refused the copy.</exception>
    public static Task<SeizedNftTable> SeizeAsync(NetworkNamespace ns, string family, string table)
    {
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentException.ThrowIfNullOrEmpty(family);
        ArgumentException.ThrowIfNullOrEmpty(table);
        return ns.RunAsync(() =>
        {
            var context = NftablesContext.Create();
            try
            {
                string listing = context.Run($"list table {family} {table}", json: false);
                string copy = OwnedCopy(listing, family, table);
                context.Run($"delete table {family} {table}\n{copy}", json: false);
                return new SeizedNftTable(context, copy);
            }
            catch
            {
                context.Dispose();
                throw;
            }
        });
    }

    /// <summary>
    /// <paramref name="listing"/> (<c>nft list table</c> text of a table without flags) with <c>flags owner</c> added: the
    /// text that recreates the table, owned by the socket that runs it.
    /// </summary>
    /// <exception cref="FormatException">The listing does not start with the table's header line.</exception>
    public static string OwnedCopy(string listing, string family, string table)
    {
        ArgumentNullException.ThrowIfNull(listing);
        string header = $"table {family} {table} {{";
        int start = listing.IndexOf(header, StringComparison.Ordinal);
        int lineEnd = start < 0 ? -1 : listing.IndexOf('\n', start);
        if (lineEnd < 0)
        {
            throw new FormatException($"No '{header}' line in the listing:\n{listing}");
        }

        return string.Concat(listing.AsSpan(start, lineEnd + 1 - start), "\tflags owner\n", listing.AsSpan(lineEnd + 1));
    }

    /// <summary>Closes the owning socket: the kernel deletes the copy, so the table is gone until its program recreates it.</summary>
    public void Dispose() => context.Dispose();
}

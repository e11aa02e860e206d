namespace Farm.DataPlane.Filtering;

/// <summary>Runs nft command text; the narrow boundary between rule generation and the kernel.</summary>
internal interface INftablesClient : IDisposable
{
    /// <summary>Runs <paramref name="batch"/> as one transaction: all of it applies or none of it.</summary>
    /// <exception cref="Farm.Native.Linux.NftablesException">nft rejected the batch.</exception>
    void Run(string batch);

    /// <summary>
    /// Writes <paramref name="batch"/> as one transaction, with the effect of <c>Run(batch.Text)</c>: a lease refresh or
    /// an apply of bucket states, the changes on a hand-over's path, as farmd's own netlink batch.
    /// </summary>
    /// <exception cref="Farm.Native.Linux.NftablesException">The kernel refused it.</exception>
    void Write(INftSetBatch batch);

    /// <summary>Parses and evaluates <paramref name="batch"/> as <see cref="Run"/> would, and commits nothing (a dry run).</summary>
    /// <exception cref="Farm.Native.Linux.NftablesException">nft rejected the batch.</exception>
    void Check(string batch);

    /// <summary>Runs a list command and returns its output: JSON, or nft's own text when <paramref name="json"/> is false.</summary>
    /// <remarks>
    /// nft 1.0.6 cannot print an owner-flagged table as JSON (the output stops at the table's flags): list tables as text.
    /// </remarks>
    /// <exception cref="Farm.Native.Linux.NftablesException">nft rejected the command.</exception>
    string List(string command, bool json = true);
}

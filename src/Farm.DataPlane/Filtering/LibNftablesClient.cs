using System.Runtime.Versioning;
using Farm.Native.Linux;

namespace Farm.DataPlane.Filtering;

/// <summary>
/// <see cref="INftablesClient"/> on libnftables in-process: no <c>nft</c> process per update, so bucket updates and
/// lease refreshes cost one netlink round trip.
/// </summary>
/// <remarks>Create it on a thread in the network namespace to program (the daemon: the host's; tests: a node's).</remarks>
[SupportedOSPlatform("linux")]
internal sealed class LibNftablesClient : INftablesClient
{
    private readonly NftablesContext context = NftablesContext.Create();
    private readonly Lock gate = new();

    /// <inheritdoc />
    public void Run(string batch)
    {
        lock (gate)
        {
            context.Run(batch, json: false);
        }
    }

    /// <inheritdoc />
    public void Check(string batch)
    {
        lock (gate)
        {
            context.Check(batch);
        }
    }

    /// <inheritdoc />
    public string List(string command, bool json = true)
    {
        lock (gate)
        {
            return context.Run(command, json);
        }
    }

    /// <inheritdoc />
    public void Dispose() => context.Dispose();
}

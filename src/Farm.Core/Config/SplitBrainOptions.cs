using System.Net;

namespace Farm.Core.Config;

/// <summary>Partition handling (cluster file <c>cluster.split_brain</c>).</summary>
public sealed record SplitBrainOptions
{
    /// <summary><c>policy</c>: <c>none</c>, <c>majority</c> or <c>witness</c>. Default <c>none</c>.</summary>
    public SplitBrainPolicy Policy { get; init; } = SplitBrainPolicy.None;

    /// <summary><c>witness</c>: the IPv4 or IPv6 address a side must reach to keep serving; required with policy witness, forbidden otherwise. No default.</summary>
    public IPAddress? Witness { get; init; }
}

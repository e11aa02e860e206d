namespace Farm.DataPlane.Addressing;

/// <summary>
/// What the VIP manager changed on the host for one module, written to disk <em>before</em> each change, so the
/// next start can undo the changes of a run that crashed. Mutable while a module runs; serialized as JSON.
/// </summary>
internal sealed class VipState
{
    /// <summary>The module.</summary>
    public required string Module { get; init; }

    /// <summary>The VIP interface.</summary>
    public required string Interface { get; init; }

    /// <summary>Sysctl path to its value before the first change.</summary>
    public Dictionary<string, string> Sysctls { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Addresses (CIDR) added to <c>lo</c>.</summary>
    public List<string> LoopbackAddresses { get; init; } = [];

    /// <summary>vMACs (colon notation) added to the interface's unicast list.</summary>
    public List<string> UnicastAddresses { get; init; } = [];

    /// <summary>True when the manager switched promiscuous mode on.</summary>
    public bool Promiscuous { get; set; }
}

namespace Farm.Core.Config;

/// <summary>How frames to the virtual MAC get past the NIC's MAC filter (module file <c>vmac_mode</c>).</summary>
public enum VmacMode
{
    /// <summary><c>unicast_filter</c>: add the virtual MAC to the NIC's unicast address list (the default; no extra traffic).</summary>
    UnicastFilter,

    /// <summary><c>promiscuous</c>: put the NIC in promiscuous mode, for drivers without a unicast list.</summary>
    Promiscuous,
}

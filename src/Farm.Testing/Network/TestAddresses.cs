namespace Farm.Testing.Network;

/// <summary>
/// Guard for addresses the harness configures or sends to: only 198.18.0.0/15 (RFC 2544 benchmarking)
/// and 2001:db8::/32 (RFC 3849 documentation), so a test can never clash with a real network.
/// </summary>
public static class TestAddresses
{
    /// <summary>The IPv4 test range, 198.18.0.0/15.</summary>
    public static readonly IPNetwork IPv4Range = new(IPAddress.Parse("198.18.0.0"), 15);

    /// <summary>The IPv6 test range, 2001:db8::/32.</summary>
    public static readonly IPNetwork IPv6Range = new(IPAddress.Parse("2001:db8::"), 32);

    /// <summary>True when <paramref name="address"/> lies in one of the test ranges (IPv4-mapped IPv6 is judged as IPv4).</summary>
    public static bool IsAllowed(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => IPv4Range.Contains(address),
            AddressFamily.InterNetworkV6 => IPv6Range.Contains(address),
            _ => false,
        };
    }

    /// <summary>Returns <paramref name="address"/>, or throws when it lies outside the test ranges.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The address is not a test address.</exception>
    public static IPAddress Require(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return IsAllowed(address)
            ? address
            : throw new ArgumentOutOfRangeException(
                nameof(address),
                address,
                $"Refusing non-test address {address}: tests may only use {IPv4Range} and {IPv6Range}.");
    }

    /// <summary>Returns the network, or throws unless the whole of it lies inside a test range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Some of the network lies outside the test ranges.</exception>
    public static IPNetwork Require(IPNetwork network)
    {
        int minimum = network.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? IPv4Range.PrefixLength : IPv6Range.PrefixLength;
        return IsAllowed(network.BaseAddress) && network.PrefixLength >= minimum
            ? network
            : throw new ArgumentOutOfRangeException(
                nameof(network),
                network,
                $"Refusing network {network}: tests may only use prefixes inside {IPv4Range} and {IPv6Range}.");
    }
}

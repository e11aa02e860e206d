using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Farm.Core.Hashing;

/// <summary>
/// The part of a client packet that selects its bucket: the client (source) address, and the
/// client (source) port when the rule's affinity is <see cref="Affinity.ClientIpPort"/>.
/// IPv4-mapped IPv6 addresses are normalized to IPv4, as the kernel sees them on the wire.
/// </summary>
public readonly record struct ClientKey
{
    /// <summary>Creates a key; <paramref name="port"/> is null when the port does not matter.</summary>
    public ClientKey(IPAddress address, ushort? port = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException($"Client address {address} is neither IPv4 nor IPv6.", nameof(address));
        }

        Address = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        Port = port;
    }

    /// <summary>The client address (IPv4 or IPv6, never IPv4-mapped).</summary>
    public IPAddress Address { get; }

    /// <summary>The client's source port, or null.</summary>
    public ushort? Port { get; }

    /// <summary>True for an IPv6 client.</summary>
    public bool IsIPv6 => Address.AddressFamily == AddressFamily.InterNetworkV6;

    /// <summary>Parses <c>IP</c>, <c>IP:PORT</c> or <c>[IPv6]:PORT</c>.</summary>
    public static bool TryParse(string text, out ClientKey key)
    {
        key = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (IPAddress.TryParse(text, out var bare) && !text.StartsWith('['))
        {
            // A bare IPv6 address contains colons too; IPAddress.TryParse accepts "1.2.3.4:80" as well, so check for it.
            int colon = text.LastIndexOf(':');
            if (bare.AddressFamily == AddressFamily.InterNetworkV6 || colon < 0)
            {
                key = new ClientKey(bare);
                return true;
            }
        }

        if (IPEndPoint.TryParse(text, out var ep) && (text.Contains(']', StringComparison.Ordinal) || ep.AddressFamily == AddressFamily.InterNetwork))
        {
            if (ep.Port is < 0 or > ushort.MaxValue)
            {
                return false;
            }

            key = new ClientKey(ep.Address, (ushort)ep.Port);
            return true;
        }

        return false;
    }

    /// <inheritdoc />
    public override string ToString() => Port is { } p
        ? (IsIPv6 ? $"[{Address}]:{p.ToString(CultureInfo.InvariantCulture)}" : $"{Address}:{p.ToString(CultureInfo.InvariantCulture)}")
        : Address.ToString();
}

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

    /// <summary>
    /// Parses <c>IPv4</c>, <c>IPv4:PORT</c>, <c>IPv6</c>, <c>[IPv6]</c> or <c>[IPv6]:PORT</c>. IPv4 must be a
    /// dotted quad: the legacy forms <c>10</c>, <c>1.2.3</c> or <c>0x7f.1</c> are rejected, as are zone ids
    /// (<c>%eth0</c>), which no packet carries.
    /// </summary>
    public static bool TryParse(string text, out ClientKey key)
    {
        key = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.AsSpan().Trim();
        if (s.Contains('%'))
        {
            return false;
        }

        if (s[0] == '[')
        {
            int close = s.IndexOf(']');
            if (close < 0 || !TryParseIPv6(s[1..close], out var bracketed))
            {
                return false;
            }

            var rest = s[(close + 1)..];
            if (rest.IsEmpty)
            {
                key = new ClientKey(bracketed);
                return true;
            }

            if (rest[0] != ':' || !TryParsePort(rest[1..], out ushort bracketedPort))
            {
                return false;
            }

            key = new ClientKey(bracketed, bracketedPort);
            return true;
        }

        // An IPv6 address has at least two colons; IPv4 has none, or one before a port.
        switch (s.Count(':'))
        {
            case 0 when TryParseDottedQuad(s, out var v4):
                key = new ClientKey(v4);
                return true;
            case 1:
                int colon = s.IndexOf(':');
                if (TryParseDottedQuad(s[..colon], out var v4WithPort) && TryParsePort(s[(colon + 1)..], out ushort port))
                {
                    key = new ClientKey(v4WithPort, port);
                    return true;
                }

                return false;
            case >= 2 when TryParseIPv6(s, out var v6):
                key = new ClientKey(v6);
                return true;
            default:
                return false;
        }
    }

    /// <inheritdoc />
    public override string ToString() => Port is { } p
        ? (IsIPv6 ? $"[{Address}]:{p.ToString(CultureInfo.InvariantCulture)}" : $"{Address}:{p.ToString(CultureInfo.InvariantCulture)}")
        : Address.ToString();

    private static bool TryParseIPv6(ReadOnlySpan<char> s, out IPAddress address) =>
        IPAddress.TryParse(s, out address!) && address.AddressFamily == AddressFamily.InterNetworkV6;

    // IPAddress.TryParse also takes inet_aton's shorthand ("10" is 0.0.0.10); a config typo must not become a key.
    private static bool TryParseDottedQuad(ReadOnlySpan<char> s, out IPAddress address)
    {
        address = IPAddress.None;
        int parts = 0;
        foreach (var range in s.Split('.'))
        {
            var part = s[range];
            if (++parts > 4 || part.IsEmpty || part.Length > 3 || part.ContainsAnyExceptInRange('0', '9'))
            {
                return false;
            }
        }

        return parts == 4 && IPAddress.TryParse(s, out address!) && address.AddressFamily == AddressFamily.InterNetwork;
    }

    private static bool TryParsePort(ReadOnlySpan<char> s, out ushort port)
    {
        port = 0;
        return !s.IsEmpty && s.Length <= 5 && !s.ContainsAnyExceptInRange('0', '9')
            && ushort.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out port);
    }
}

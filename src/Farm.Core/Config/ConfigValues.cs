using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Farm.Core.Config;

/// <summary>Checks shared by both files: names and addresses.</summary>
internal static partial class ConfigValues
{
    public const int MaxNameLength = 63;

    /// <summary>True for a DNS-label-like name: lower-case letters, digits and inner hyphens, 1..63 characters.</summary>
    public static bool IsValidName(string name) => name.Length <= MaxNameLength && NamePattern().IsMatch(name);

    /// <summary>Reports an invalid name; returns it either way so binding goes on.</summary>
    public static string CheckName(ConfigDiagnostics diagnostics, YamlScalarNode scalar, string what)
    {
        if (!IsValidName(scalar.Value))
        {
            diagnostics.Add(
                scalar,
                $"{what} '{scalar.Value}' is not a valid name",
                $"use 1 to {MaxNameLength} lower-case letters, digits and '-', starting and ending with a letter or digit, e.g. '{ConfigNames.Suggest(scalar.Value)}'");
        }

        return scalar.Value;
    }

    /// <summary>Parses an IPv4 or IPv6 address (no port, no prefix length); reports and returns null when it is not one.</summary>
    public static IPAddress? Address(ConfigDiagnostics diagnostics, YamlScalarNode scalar, string what, string example)
    {
        string text = scalar.Value.Trim();
        // IPAddress.TryParse also accepts short forms such as "10.1"; insist on the full textual forms.
        bool looksRight = text.Contains(':', StringComparison.Ordinal) ? !text.Contains('[', StringComparison.Ordinal) && !text.Contains('%', StringComparison.Ordinal) : text.Count(c => c == '.') == 3;
        // IPv4 must also read back unchanged: IPAddress.TryParse takes "010.0.0.1" as octal (8.0.0.1) and accepts hex parts.
        if (!looksRight || !IPAddress.TryParse(text, out var address) ||
            address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) ||
            (address.AddressFamily == AddressFamily.InterNetwork && address.ToString() != text))
        {
            string hint = text.Contains('/', StringComparison.Ordinal)
                ? "write the address without a prefix length"
                : $"write an IPv4 or IPv6 address, e.g. {example}";
            diagnostics.Add(scalar, $"{what} is '{scalar.Value}', which is not an IP address", hint);
            return null;
        }

        return address;
    }

    /// <summary>Why <paramref name="address"/> cannot be a unicast host address, or null when it can.</summary>
    public static string? NonUnicastReason(IPAddress address)
    {
        if (IPAddress.IsLoopback(address))
        {
            return "a loopback address";
        }

        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return "the unspecified address";
        }

        if (address.Equals(IPAddress.Broadcast))
        {
            return "the broadcast address";
        }

        if (address.IsIPv6Multicast || (address.AddressFamily == AddressFamily.InterNetwork && address.GetAddressBytes()[0] is >= 224 and <= 239))
        {
            return "a multicast address";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return "an IPv4-mapped IPv6 address";
        }

        if (address.AddressFamily == AddressFamily.InterNetwork && address.GetAddressBytes()[0] is 0 or >= 240)
        {
            return "a reserved address";
        }

        return null;
    }

    /// <summary>
    /// Why <paramref name="address"/> cannot serve as a configured address because of its scope, or null. IPv6
    /// link-local addresses (fe80::/10) need a zone, which the syntax excludes; with <paramref name="includeIpv4"/> (VIPs,
    /// which clients beyond the link must reach) IPv4 link-local (169.254.0.0/16) too.
    /// </summary>
    public static string? LinkLocalReason(IPAddress address, bool includeIpv4)
    {
        if (address.IsIPv6LinkLocal)
        {
            return "an IPv6 link-local address (fe80::/10), usable only with a zone";
        }

        if (includeIpv4 && address.AddressFamily == AddressFamily.InterNetwork && address.GetAddressBytes() is [169, 254, _, _])
        {
            return "an IPv4 link-local address (169.254.0.0/16), not reachable beyond its link";
        }

        return null;
    }

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")]
    private static partial Regex NamePattern();
}

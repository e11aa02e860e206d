using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Farm.DataPlane.Addressing;

/// <summary>
/// The virtual MAC of a VIP: locally administered unicast and derived only from the VIP, so every node of the farm
/// computes the same one without talking to the others.
/// </summary>
/// <remarks>
/// IPv4: <c>02:46:a:b:c:d</c> (the address itself, so two IPv4 VIPs never share a vMAC). IPv6: <c>06:46</c> and the
/// first four bytes of SHA-256 of the address. 0x02/0x06 set the locally-administered bit and clear the group bit;
/// 0x46 is 'F'.
/// </remarks>
public static class VirtualMac
{
    /// <summary>The vMAC of <paramref name="vip"/>.</summary>
    public static PhysicalAddress For(IPAddress vip)
    {
        ArgumentNullException.ThrowIfNull(vip);
        byte[] mac = new byte[6];
        mac[1] = 0x46;
        if (vip.AddressFamily == AddressFamily.InterNetwork)
        {
            mac[0] = 0x02;
            vip.TryWriteBytes(mac.AsSpan(2), out _);
        }
        else if (vip.AddressFamily == AddressFamily.InterNetworkV6)
        {
            mac[0] = 0x06;
            Span<byte> digest = stackalloc byte[32];
            SHA256.HashData(vip.GetAddressBytes(), digest);
            digest[..4].CopyTo(mac.AsSpan(2));
        }
        else
        {
            throw new ArgumentException($"VIP {vip} is neither IPv4 nor IPv6.", nameof(vip));
        }

        return new PhysicalAddress(mac);
    }

    /// <summary>Colon notation (<c>02:46:c6:12:00:64</c>) as nft, ip and bridge print and parse it.</summary>
    public static string Format(PhysicalAddress mac)
    {
        ArgumentNullException.ThrowIfNull(mac);
        return string.Join(':', mac.GetAddressBytes().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
    }
}

using System.Buffers.Binary;

namespace Farm.Core.Hashing;

/// <summary>
/// The bytes that nftables hashes for a client key: the contents of the registers that
/// <c>jhash ip saddr</c>, <c>jhash ip saddr . th sport</c>, <c>jhash ip6 saddr</c> and
/// <c>jhash ip6 saddr . th sport</c> read.
/// </summary>
/// <remarks>
/// Each element of an nft concatenation occupies whole 32-bit registers and a 2-byte port is
/// zero-padded to 4 bytes (nft_payload zeroes the partial register), in network byte order:
/// IPv4 = 4 bytes, IPv4 + port = 8, IPv6 = 16, IPv6 + port = 20.
/// </remarks>
public static class NftKeyLayout
{
    /// <summary>The largest key: IPv6 address + padded port.</summary>
    public const int MaxLength = 20;

    /// <summary>Writes the hashed bytes of <paramref name="key"/> under <paramref name="affinity"/>; returns their length.</summary>
    /// <exception cref="ArgumentException">The affinity needs a port and the key has none.</exception>
    public static int Write(in ClientKey key, Affinity affinity, Span<byte> destination)
    {
        if (!key.Address.TryWriteBytes(destination, out int written))
        {
            throw new ArgumentException("Destination is too small for the key.", nameof(destination));
        }

        if (affinity == Affinity.ClientIp)
        {
            return written;
        }

        if (key.Port is not { } port)
        {
            throw new ArgumentException($"Affinity client_ip_port needs a client port, and key {key} has none.", nameof(key));
        }

        return written + WritePort(port, destination[written..]);
    }

    /// <summary>Writes a port as nft holds it in a register: 2 bytes big-endian then 2 zero bytes.</summary>
    public static int WritePort(ushort port, Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, port);
        destination[2] = 0;
        destination[3] = 0;
        return 4;
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;

namespace Farm.Daemon.Transport;

/// <summary>
/// Compact binary form of a list of <see cref="FlowKey"/>s, as they travel in heartbeats (the UDP flows a draining
/// node still serves). Per entry: 1 byte address length (4 or 16), the address bytes (network order), the port as
/// 2 bytes big-endian; entries follow each other without padding or count. IPv4 costs 7 bytes, IPv6 19.
/// </summary>
internal static class FlowKeyCodec
{
    /// <summary>Bytes of the longest entry: an IPv6 key.</summary>
    public const int MaxEntryLength = 1 + 16 + 2;

    /// <summary>Encodes <paramref name="keys"/> in order.</summary>
    /// <exception cref="ArgumentException">A key has no address, an address that is neither IPv4 nor IPv6, or a port outside 0-65535.</exception>
    public static byte[] Encode(IEnumerable<FlowKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var output = new ArrayBufferWriter<byte>();
        int index = 0;
        foreach (var key in keys)
        {
            if (key.Address is null || key.Address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            {
                throw new ArgumentException($"Flow key {index} ({key}) has no IPv4 or IPv6 address.", nameof(keys));
            }

            if (key.Port is < 0 or > ushort.MaxValue)
            {
                throw new ArgumentException($"Flow key {index} ({key}) has port {key.Port}, outside 0-65535.", nameof(keys));
            }

            var entry = output.GetSpan(MaxEntryLength);
            key.Address.TryWriteBytes(entry[1..], out int length);
            entry[0] = (byte)length;
            BinaryPrimitives.WriteUInt16BigEndian(entry[(1 + length)..], (ushort)key.Port);
            output.Advance(1 + length + 2);

            index++;
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>Decodes what <see cref="Encode"/> wrote; an empty input is an empty list.</summary>
    /// <exception cref="FormatException">An entry has an address length other than 4 or 16, or the input ends inside an entry.</exception>
    public static ImmutableArray<FlowKey> Decode(ReadOnlySpan<byte> data)
    {
        var keys = ImmutableArray.CreateBuilder<FlowKey>(Count(data));
        int offset = 0;
        while (offset < data.Length)
        {
            int length = data[offset];
            var address = new IPAddress(data.Slice(offset + 1, length));
            int port = BinaryPrimitives.ReadUInt16BigEndian(data[(offset + 1 + length)..]);
            keys.Add(new FlowKey(address, port));
            offset += 1 + length + 2;
        }

        return keys.MoveToImmutable();
    }

    /// <summary>Checks that <paramref name="data"/> is whole entries, without allocating; returns how many.</summary>
    /// <exception cref="FormatException">An entry has an address length other than 4 or 16, or the input ends inside an entry.</exception>
    public static int Count(ReadOnlySpan<byte> data)
    {
        int count = 0;
        int offset = 0;
        while (offset < data.Length)
        {
            int length = data[offset];
            if (length is not (4 or 16))
            {
                throw new FormatException($"Flow key {count} at byte {offset}: address length {length}, expected 4 (IPv4) or 16 (IPv6).");
            }

            int needed = 1 + length + 2;
            if (data.Length - offset < needed)
            {
                throw new FormatException($"Flow key {count} at byte {offset} is truncated: {needed} bytes needed, {data.Length - offset} left.");
            }

            offset += needed;
            count++;
        }

        return count;
    }
}

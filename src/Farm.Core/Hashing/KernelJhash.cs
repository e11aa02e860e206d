using System.Buffers.Binary;
using System.Numerics;

namespace Farm.Core.Hashing;

/// <summary>
/// Bob Jenkins' lookup3 hash exactly as the Linux kernel's <c>jhash()</c> (include/linux/jhash.h),
/// which nftables' <c>jhash</c> expression evaluates per packet.
/// </summary>
/// <remarks>
/// The kernel reads whole 12-byte blocks with native-endian 32-bit loads and the 1..12-byte tail
/// byte by byte in little-endian order. Farm only runs on little-endian machines (x86-64, arm64),
/// where both are little-endian, so this implementation reads little-endian throughout; the
/// kernel-parity test proves it against the running kernel.
/// </remarks>
public static class KernelJhash
{
    /// <summary>The kernel's JHASH_INITVAL, an arbitrary constant added to every state word.</summary>
    public const uint InitVal = 0xdeadbeef;

    /// <summary>Hashes <paramref name="key"/> with <paramref name="seed"/> (the kernel's initval argument).</summary>
    public static uint Hash(ReadOnlySpan<byte> key, uint seed)
    {
        uint length = (uint)key.Length;
        uint a, b, c;
        a = b = c = InitVal + length + seed;

        var k = key;
        while (k.Length > 12)
        {
            a += BinaryPrimitives.ReadUInt32LittleEndian(k);
            b += BinaryPrimitives.ReadUInt32LittleEndian(k[4..]);
            c += BinaryPrimitives.ReadUInt32LittleEndian(k[8..]);
            Mix(ref a, ref b, ref c);
            k = k[12..];
        }

        if (k.Length == 0)
        {
            return c; // the kernel returns c without the final mix when nothing is left
        }

        // Tail of 1..12 bytes: bytes 0-3 go to a, 4-7 to b, 8-11 to c, little-endian.
        for (int i = k.Length - 1; i >= 0; i--)
        {
            uint v = (uint)k[i] << (8 * (i & 3));
            switch (i >> 2)
            {
                case 0: a += v; break;
                case 1: b += v; break;
                default: c += v; break;
            }
        }

        Final(ref a, ref b, ref c);
        return c;
    }

    private static void Mix(ref uint a, ref uint b, ref uint c)
    {
        a -= c; a ^= BitOperations.RotateLeft(c, 4); c += b;
        b -= a; b ^= BitOperations.RotateLeft(a, 6); a += c;
        c -= b; c ^= BitOperations.RotateLeft(b, 8); b += a;
        a -= c; a ^= BitOperations.RotateLeft(c, 16); c += b;
        b -= a; b ^= BitOperations.RotateLeft(a, 19); a += c;
        c -= b; c ^= BitOperations.RotateLeft(b, 4); b += a;
    }

    private static void Final(ref uint a, ref uint b, ref uint c)
    {
        c ^= b; c -= BitOperations.RotateLeft(b, 14);
        a ^= c; a -= BitOperations.RotateLeft(c, 11);
        b ^= a; b -= BitOperations.RotateLeft(a, 25);
        c ^= b; c -= BitOperations.RotateLeft(b, 16);
        a ^= c; a -= BitOperations.RotateLeft(c, 4);
        b ^= a; b -= BitOperations.RotateLeft(a, 14);
        c ^= b; c -= BitOperations.RotateLeft(b, 24);
    }
}

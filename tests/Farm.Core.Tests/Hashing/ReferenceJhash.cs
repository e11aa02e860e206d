namespace Farm.Core.Tests.Hashing;

/// <summary>
/// An independent transcription of the kernel's jhash() (include/linux/jhash.h) in its original shape: the
/// switch on the remaining length that falls through from case 12 to case 1, and the mix/final macros with
/// hand-written rotations. Written differently from KernelJhash on purpose, so one cannot share the other's bug.
/// </summary>
internal static class ReferenceJhash
{
    public static uint Hash(byte[] key, uint initval)
    {
        uint length = (uint)key.Length;
        uint a = 0xdeadbeef + length + initval;
        uint b = a;
        uint c = a;
        int k = 0;

        while (length > 12)
        {
            a += Get32(key, k);
            b += Get32(key, k + 4);
            c += Get32(key, k + 8);
            JhashMix(ref a, ref b, ref c);
            length -= 12;
            k += 12;
        }

        // C# has no implicit fall-through; goto case reproduces the kernel's case chain literally.
        switch (length)
        {
            case 12: c += (uint)key[k + 11] << 24; goto case 11;
            case 11: c += (uint)key[k + 10] << 16; goto case 10;
            case 10: c += (uint)key[k + 9] << 8; goto case 9;
            case 9: c += key[k + 8]; goto case 8;
            case 8: b += (uint)key[k + 7] << 24; goto case 7;
            case 7: b += (uint)key[k + 6] << 16; goto case 6;
            case 6: b += (uint)key[k + 5] << 8; goto case 5;
            case 5: b += key[k + 4]; goto case 4;
            case 4: a += (uint)key[k + 3] << 24; goto case 3;
            case 3: a += (uint)key[k + 2] << 16; goto case 2;
            case 2: a += (uint)key[k + 1] << 8; goto case 1;
            case 1:
                a += key[k];
                JhashFinal(ref a, ref b, ref c);
                break;
            case 0:
                break;
        }

        return c;
    }

    // __get_unaligned_cpu32 on a little-endian CPU.
    private static uint Get32(byte[] p, int i) =>
        p[i] | ((uint)p[i + 1] << 8) | ((uint)p[i + 2] << 16) | ((uint)p[i + 3] << 24);

    private static uint Rol32(uint word, int shift) => (word << shift) | (word >> (32 - shift));

    private static void JhashMix(ref uint a, ref uint b, ref uint c)
    {
        a -= c; a ^= Rol32(c, 4); c += b;
        b -= a; b ^= Rol32(a, 6); a += c;
        c -= b; c ^= Rol32(b, 8); b += a;
        a -= c; a ^= Rol32(c, 16); c += b;
        b -= a; b ^= Rol32(a, 19); a += c;
        c -= b; c ^= Rol32(b, 4); b += a;
    }

    private static void JhashFinal(ref uint a, ref uint b, ref uint c)
    {
        c ^= b; c -= Rol32(b, 14);
        a ^= c; a -= Rol32(c, 11);
        b ^= a; b -= Rol32(a, 25);
        c ^= b; c -= Rol32(b, 16);
        a ^= c; a -= Rol32(c, 4);
        b ^= a; b -= Rol32(a, 14);
        c ^= b; c -= Rol32(b, 24);
    }
}

namespace Farm.Core.Hashing;

/// <summary>
/// Maps client keys to buckets exactly as the kernel rule
/// <c>jhash KEY mod BUCKETS seed SEED</c> does: <c>reciprocal_scale(jhash(key, len, seed), BUCKETS)</c>.
/// </summary>
public sealed class BucketHasher
{
    /// <summary>Creates a hasher for one module's bucket count and seed.</summary>
    public BucketHasher(int bucketCount, uint seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketCount, 1);
        BucketCount = bucketCount;
        Seed = seed;
    }

    /// <summary>Number of buckets (the nft <c>mod</c> operand).</summary>
    public int BucketCount { get; }

    /// <summary>The nft <c>seed</c> operand (the kernel's jhash initval).</summary>
    public uint Seed { get; }

    /// <summary>The bucket of <paramref name="key"/> under <paramref name="affinity"/>.</summary>
    public int BucketOf(in ClientKey key, Affinity affinity)
    {
        Span<byte> buffer = stackalloc byte[NftKeyLayout.MaxLength];
        int length = NftKeyLayout.Write(key, affinity, buffer);
        return BucketOf(buffer[..length]);
    }

    /// <summary>The bucket of already laid-out key bytes (see <see cref="NftKeyLayout"/>); the hot path of user-space engines.</summary>
    public int BucketOf(ReadOnlySpan<byte> keyBytes) =>
        (int)ReciprocalScale(KernelJhash.Hash(keyBytes, Seed), (uint)BucketCount);

    /// <summary>The kernel's <c>reciprocal_scale</c>: maps a 32-bit hash to [0, n) with a multiply and a shift.</summary>
    public static uint ReciprocalScale(uint value, uint n) => (uint)(((ulong)value * n) >> 32);
}

using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Farm.Core.Buckets;

/// <summary>
/// Immutable, epoch-versioned owner of every bucket of one module. A new view produces a new table
/// (see <see cref="BucketTransition"/>) that replaces the old one by a single reference swap.
/// </summary>
public sealed class BucketTable : IEquatable<BucketTable>
{
    /// <summary>The default number of buckets per module.</summary>
    public const int DefaultBucketCount = 4096;

    /// <summary>The smallest allowed bucket count.</summary>
    public const int MinBucketCount = 256;

    /// <summary>The largest allowed bucket count.</summary>
    public const int MaxBucketCount = 65536;

    /// <summary>The largest number of members: owner indices are stored as 16-bit values to keep 64K-bucket tables small.</summary>
    public const int MaxMembers = short.MaxValue;

    /// <summary>The owner index of an unowned bucket.</summary>
    public const int Unowned = -1;

    private readonly short[] owners;
    private readonly int[] counts;

    /// <summary>Takes ownership of <paramref name="owners"/>; callers guarantee sorted unique names and valid indices.</summary>
    internal BucketTable(long epoch, ImmutableArray<string> members, short[] owners)
    {
        Epoch = epoch;
        Members = members;
        this.owners = owners;
        counts = new int[members.Length];
        foreach (short owner in owners)
        {
            if (owner >= 0)
            {
                counts[owner]++;
            }
        }

        Fingerprint = ComputeFingerprint(epoch, members, owners);
    }

    /// <summary>The view epoch this table belongs to; 0 for <see cref="Empty"/>.</summary>
    public long Epoch { get; }

    /// <summary>Number of buckets (a power of two, <see cref="MinBucketCount"/>..<see cref="MaxBucketCount"/>).</summary>
    public int BucketCount => owners.Length;

    /// <summary>The member names of the view, sorted ordinally; owner indices point into this list.</summary>
    public ImmutableArray<string> Members { get; }

    /// <summary>The owner index of every bucket (<see cref="Unowned"/> = -1), for compact transfer and filter programming.</summary>
    public ReadOnlySpan<short> OwnerIndices => owners;

    /// <summary>A 64-bit digest of epoch, members and owners: nodes compare it to prove they computed the same table.</summary>
    public ulong Fingerprint { get; }

    /// <summary>Number of buckets that have no owner.</summary>
    public int UnownedCount => BucketCount - counts.Sum();

    /// <summary>A table of <paramref name="bucketCount"/> unowned buckets, epoch 0, no members: the start of every history.</summary>
    public static BucketTable Empty(int bucketCount = DefaultBucketCount)
    {
        ValidateBucketCount(bucketCount);
        var owners = new short[bucketCount];
        owners.AsSpan().Fill(Unowned);
        return new BucketTable(0, [], owners);
    }

    /// <summary>Rebuilds a table received from a peer (state transfer to a node that has no history).</summary>
    /// <exception cref="ArgumentException">The names are not unique and ordinally sorted, or an index is out of range.</exception>
    public static BucketTable FromOwners(long epoch, IReadOnlyList<string> members, ReadOnlySpan<short> ownerIndices)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ValidateBucketCount(ownerIndices.Length);
        if (members.Count > MaxMembers)
        {
            throw new ArgumentException($"At most {MaxMembers} members are supported, got {members.Count}.", nameof(members));
        }

        for (int i = 0; i < members.Count; i++)
        {
            if (string.IsNullOrEmpty(members[i]))
            {
                throw new ArgumentException($"Member {i} has no name.", nameof(members));
            }

            if (i > 0 && string.CompareOrdinal(members[i - 1], members[i]) >= 0)
            {
                throw new ArgumentException($"Members must be unique and sorted ordinally: '{members[i - 1]}' precedes '{members[i]}'.", nameof(members));
            }
        }

        foreach (short owner in ownerIndices)
        {
            if (owner < Unowned || owner >= members.Count)
            {
                throw new ArgumentException($"Owner index {owner} is out of range for {members.Count} members.", nameof(ownerIndices));
            }
        }

        return new BucketTable(epoch, [.. members], ownerIndices.ToArray());
    }

    /// <summary>Throws unless <paramref name="bucketCount"/> is a power of two within the allowed range.</summary>
    public static void ValidateBucketCount(int bucketCount)
    {
        if (bucketCount is < MinBucketCount or > MaxBucketCount || !BitOperations.IsPow2(bucketCount))
        {
            throw new ArgumentOutOfRangeException(nameof(bucketCount), bucketCount,
                $"The bucket count must be a power of two from {MinBucketCount} to {MaxBucketCount}.");
        }
    }

    /// <summary>The owner index of <paramref name="bucket"/>, or <see cref="Unowned"/>.</summary>
    public int OwnerIndexOf(int bucket)
    {
        if ((uint)bucket >= (uint)owners.Length)
        {
            ThrowBucketOutOfRange(bucket);
        }

        return owners[bucket];
    }

    /// <summary>The owner of <paramref name="bucket"/>, or null when it is unowned.</summary>
    public string? OwnerOf(int bucket)
    {
        int owner = OwnerIndexOf(bucket);
        return owner < 0 ? null : Members[owner];
    }

    /// <summary>The index of <paramref name="name"/> in <see cref="Members"/>, or -1.</summary>
    public int IndexOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        int index = Members.BinarySearch(name, StringComparer.Ordinal);
        return index < 0 ? -1 : index;
    }

    /// <summary>Number of buckets <paramref name="name"/> owns; 0 for a non-member.</summary>
    public int CountOf(string name)
    {
        int index = IndexOf(name);
        return index < 0 ? 0 : counts[index];
    }

    /// <summary>The buckets <paramref name="name"/> owns, ascending; empty for a non-member.</summary>
    public ImmutableArray<int> BucketsOf(string name)
    {
        int index = IndexOf(name);
        if (index < 0 || counts[index] == 0)
        {
            return [];
        }

        var result = ImmutableArray.CreateBuilder<int>(counts[index]);
        for (int bucket = 0; bucket < owners.Length; bucket++)
        {
            if (owners[bucket] == index)
            {
                result.Add(bucket);
            }
        }

        return result.MoveToImmutable();
    }

    /// <summary>
    /// The buckets whose owner differs from this table to <paramref name="next"/>, ascending by bucket.
    /// The membership protocol releases every <see cref="BucketMove.From"/> before any <see cref="BucketMove.To"/> acquires.
    /// </summary>
    /// <exception cref="ArgumentException">The tables have different bucket counts.</exception>
    public ImmutableArray<BucketMove> Diff(BucketTable next)
    {
        ArgumentNullException.ThrowIfNull(next);
        if (next.BucketCount != BucketCount)
        {
            throw new ArgumentException($"Cannot compare a {BucketCount}-bucket table with a {next.BucketCount}-bucket table.", nameof(next));
        }

        var moves = ImmutableArray.CreateBuilder<BucketMove>();
        for (int bucket = 0; bucket < owners.Length; bucket++)
        {
            string? from = OwnerOf(bucket);
            string? to = next.OwnerOf(bucket);
            if (!string.Equals(from, to, StringComparison.Ordinal))
            {
                moves.Add(new BucketMove(bucket, from, to));
            }
        }

        return moves.ToImmutable();
    }

    /// <inheritdoc />
    public bool Equals(BucketTable? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (Epoch == other.Epoch
                && Fingerprint == other.Fingerprint
                && Members.SequenceEqual(other.Members, StringComparer.Ordinal)
                && owners.AsSpan().SequenceEqual(other.owners)));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as BucketTable);

    /// <inheritdoc />
    public override int GetHashCode() => Fingerprint.GetHashCode();

    /// <summary>Epoch, bucket count and each member's count, e.g. <c>epoch 3, 4096 buckets: a=2048 b=2048</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"epoch {Epoch}, {BucketCount} buckets:");
        for (int i = 0; i < Members.Length; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $" {Members[i]}={counts[i]}");
        }

        int unowned = UnownedCount;
        if (unowned > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" unowned={unowned}");
        }

        return text.ToString();
    }

    // FNV-1a: stable across processes and runtimes, unlike string.GetHashCode, which is randomized per process.
    private static ulong ComputeFingerprint(long epoch, ImmutableArray<string> members, short[] owners)
    {
        const ulong Prime = 1099511628211;
        ulong hash = 14695981039346656037;
        void Mix(ulong value)
        {
            for (int shift = 0; shift < 64; shift += 8)
            {
                hash = (hash ^ ((value >> shift) & 0xff)) * Prime;
            }
        }

        Mix((ulong)epoch);
        Mix((ulong)members.Length);
        foreach (string name in members)
        {
            Mix((ulong)name.Length);
            foreach (char c in name)
            {
                hash = (hash ^ c) * Prime;
            }
        }

        Mix((ulong)owners.Length);
        foreach (short owner in owners)
        {
            hash = (hash ^ (ushort)owner) * Prime;
        }

        return hash;
    }

    private static void ThrowBucketOutOfRange(int bucket) =>
        throw new ArgumentOutOfRangeException(nameof(bucket), bucket, "The bucket is outside the table.");
}

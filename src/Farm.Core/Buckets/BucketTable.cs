using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
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

    /// <summary>Takes ownership of <paramref name="owners"/>; callers guarantee sorted unique names, matching weights and valid indices.</summary>
    internal BucketTable(long epoch, ImmutableArray<string> members, ImmutableArray<int> weights, short[] owners)
    {
        Epoch = epoch;
        Members = members;
        Weights = weights;
        this.owners = owners;
        counts = new int[members.Length];
        foreach (short owner in owners)
        {
            if (owner >= 0)
            {
                counts[owner]++;
            }
        }

        Fingerprint = ComputeFingerprint(epoch, members, weights, owners);
    }

    /// <summary>The view epoch this table belongs to; 0 for <see cref="Empty"/>.</summary>
    public long Epoch { get; }

    /// <summary>Number of buckets (a power of two, <see cref="MinBucketCount"/>..<see cref="MaxBucketCount"/>).</summary>
    public int BucketCount => owners.Length;

    /// <summary>The member names of the view, sorted ordinally; owner indices point into this list.</summary>
    public ImmutableArray<string> Members { get; }

    /// <summary>The weight of each member, parallel to <see cref="Members"/>; the next transition compares it with the new weights.</summary>
    public ImmutableArray<int> Weights { get; }

    /// <summary>The owner index of every bucket (<see cref="Unowned"/> = -1), for compact transfer and filter programming.</summary>
    public ReadOnlySpan<short> OwnerIndices => owners;

    /// <summary>A 64-bit digest of epoch, members, weights and owners, equal on every node that computed the same table.</summary>
    public ulong Fingerprint { get; }

    /// <summary>Number of buckets that have no owner.</summary>
    public int UnownedCount => BucketCount - counts.Sum();

    /// <summary>A table of <paramref name="bucketCount"/> unowned buckets, epoch 0, no members: the start of every history.</summary>
    public static BucketTable Empty(int bucketCount = DefaultBucketCount)
    {
        ValidateBucketCount(bucketCount);
        var owners = new short[bucketCount];
        owners.AsSpan().Fill(Unowned);
        return new BucketTable(0, [], [], owners);
    }

    /// <summary>Rebuilds a table received from a peer (state transfer to a node that has no history).</summary>
    /// <param name="epoch">The table's epoch.</param>
    /// <param name="members">The members in any order; owner indices refer to their ordinal name order (<see cref="Members"/>).</param>
    /// <param name="ownerIndices">The owner index of every bucket, or <see cref="Unowned"/>.</param>
    /// <exception cref="ArgumentException">Duplicate names, an index out of range or an invalid bucket count.</exception>
    public static BucketTable FromOwners(long epoch, IReadOnlyCollection<BucketMember> members, ReadOnlySpan<short> ownerIndices)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ValidateBucketCount(ownerIndices.Length);
        var sorted = SortMembers(members);
        foreach (short owner in ownerIndices)
        {
            if (owner < Unowned || owner >= sorted.Length)
            {
                throw new ArgumentException($"Owner index {owner} is out of range for {sorted.Length} members.", nameof(ownerIndices));
            }
        }

        return new BucketTable(epoch, NamesOf(sorted), WeightsOf(sorted), ownerIndices.ToArray());
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

        // Translate this table's owner indices into the other's once, so the per-bucket loop compares integers.
        var translated = new short[Members.Length];
        for (int i = 0; i < translated.Length; i++)
        {
            translated[i] = (short)next.IndexOf(Members[i]);
        }

        var moves = ImmutableArray.CreateBuilder<BucketMove>();
        var theirs = next.owners;
        for (int bucket = 0; bucket < owners.Length; bucket++)
        {
            short mine = owners[bucket];
            short same = mine < 0 ? (short)Unowned : translated[mine];
            if (same != theirs[bucket] || (mine >= 0 && same < 0))
            {
                moves.Add(new BucketMove(bucket, OwnerOf(bucket), next.OwnerOf(bucket)));
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
                && Weights.SequenceEqual(other.Weights)
                && owners.AsSpan().SequenceEqual(other.owners)));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as BucketTable);

    /// <inheritdoc />
    public override int GetHashCode() => Fingerprint.GetHashCode();

    /// <summary>Epoch, bucket count and each member's weight and count, e.g. <c>epoch 3, 4096 buckets: a(w1)=2048 b(w1)=2048</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"epoch {Epoch}, {BucketCount} buckets:");
        for (int i = 0; i < Members.Length; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $" {Members[i]}(w{Weights[i]})={counts[i]}");
        }

        int unowned = UnownedCount;
        if (unowned > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" unowned={unowned}");
        }

        return text.ToString();
    }

    // FNV-1a style with a rotation so high bits feed back down: stable across processes and runtimes, unlike
    // string.GetHashCode, which is randomized per process. Owners are mixed four at a time (B is a multiple of 4).
    private static ulong ComputeFingerprint(long epoch, ImmutableArray<string> members, ImmutableArray<int> weights, short[] owners)
    {
        ulong hash = 14695981039346656037;
        hash = Mix(hash, (ulong)epoch);
        hash = Mix(hash, (ulong)members.Length);
        foreach (string name in members)
        {
            hash = Mix(hash, (ulong)name.Length);
            foreach (char c in name)
            {
                hash = Mix(hash, c);
            }
        }

        foreach (int weight in weights)
        {
            hash = Mix(hash, (ulong)weight);
        }

        hash = Mix(hash, (ulong)owners.Length);
        foreach (ulong four in MemoryMarshal.Cast<short, ulong>(owners))
        {
            hash = Mix(hash, four);
        }

        return hash;
    }

    private static ulong Mix(ulong hash, ulong value) => BitOperations.RotateLeft((hash ^ value) * 1099511628211, 27);

    /// <summary>Copies the members sorted ordinally by name, the order owner indices refer to; rejects nulls and duplicates.</summary>
    internal static BucketMember[] SortMembers(IReadOnlyCollection<BucketMember> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count > MaxMembers)
        {
            throw new ArgumentException($"At most {MaxMembers} members are supported, got {members.Count}.", nameof(members));
        }

        var sorted = new BucketMember[members.Count];
        int n = 0;
        foreach (var member in members)
        {
            sorted[n++] = member ?? throw new ArgumentException("A member is null.", nameof(members));
        }

        Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        for (int i = 1; i < sorted.Length; i++)
        {
            if (string.Equals(sorted[i - 1].Name, sorted[i].Name, StringComparison.Ordinal))
            {
                throw new ArgumentException($"Member '{sorted[i].Name}' appears twice.", nameof(members));
            }
        }

        return sorted;
    }

    internal static ImmutableArray<string> NamesOf(BucketMember[] sorted) => sorted.Select(static m => m.Name).ToImmutableArray();

    internal static ImmutableArray<int> WeightsOf(BucketMember[] sorted) => sorted.Select(static m => m.Weight).ToImmutableArray();

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowBucketOutOfRange(int bucket) =>
        throw new ArgumentOutOfRangeException(nameof(bucket), bucket, "The bucket is outside the table.");
}

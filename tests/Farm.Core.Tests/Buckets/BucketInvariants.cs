namespace Farm.Core.Tests.Buckets;

/// <summary>Independent checks of the bucket-table invariants, computed from first principles rather than from the implementation.</summary>
internal static class BucketInvariants
{
    /// <summary>Every member owns floor or ceil of B*w/W; with no weight at all every bucket is unowned.</summary>
    public static void AssertBalanced(BucketTable table, IReadOnlyCollection<BucketMember> members)
    {
        CollectionAssert.AreEqual(
            members.Select(m => m.Name).OrderBy(n => n, StringComparer.Ordinal).ToList(),
            table.Members.ToList(),
            "members of the table");
        int b = table.BucketCount;
        long total = members.Sum(m => (long)m.Weight);
        if (total == 0)
        {
            Assert.AreEqual(b, table.UnownedCount, $"no weight, so nothing is owned: {table}");
            return;
        }

        Assert.AreEqual(0, table.UnownedCount, $"every bucket is owned: {table}");
        foreach (var m in members)
        {
            var (low, high) = Quota(b, m.Weight, total);
            int count = table.CountOf(m.Name);
            Assert.IsTrue(count >= low && count <= high,
                $"{m.Name} (weight {m.Weight} of {total}) owns {count}, quota is [{low}, {high}]: {table}");
        }
    }

    /// <summary>The floor and ceiling of the exact share B*w/W.</summary>
    public static (int Low, int High) Quota(int bucketCount, int weight, long totalWeight)
    {
        long numerator = (long)bucketCount * weight;
        int low = (int)(numerator / totalWeight);
        return (low, low + (numerator % totalWeight == 0 ? 0 : 1));
    }

    /// <summary>
    /// The fewest buckets any balanced table for <paramref name="members"/> must move away from <paramref name="previous"/>:
    /// each member below its floor must gain up to it, and the remaining ceilings (B - sum of floors) are taken first
    /// by members that already hold their ceiling (free) and then by others (one bucket each).
    /// </summary>
    public static int MinimumMoves(BucketTable previous, IReadOnlyCollection<BucketMember> members)
    {
        int b = previous.BucketCount;
        long total = members.Sum(m => (long)m.Weight);
        if (total == 0)
        {
            return b - previous.UnownedCount;
        }

        int gains = 0, floors = 0, freeCeilings = 0;
        foreach (var m in members)
        {
            var (low, high) = Quota(b, m.Weight, total);
            int current = previous.CountOf(m.Name);
            gains += Math.Max(0, low - current);
            floors += low;
            if (high > low && current >= high)
            {
                freeCeilings++;
            }
        }

        return gains + Math.Max(0, b - floors - freeCeilings);
    }

    /// <summary>
    /// Whether any balanced table for <paramref name="members"/> moves buckets only to or from <paramref name="changed"/>,
    /// the member that joined, left or was reweighted: everybody else may only gain (after a leave or a weight decrease)
    /// or only lose (after a join or a weight increase). Usually true; a few histories leave counts where it is not.
    /// </summary>
    public static bool ExactMoveIsPossible(BucketTable previous, IReadOnlyCollection<BucketMember> members, string changed, bool changedGrows)
    {
        int b = previous.BucketCount;
        long total = members.Sum(m => (long)m.Weight);
        if (total == 0)
        {
            return true;
        }

        long low = 0, high = 0;
        foreach (var m in members)
        {
            var (floor, ceiling) = Quota(b, m.Weight, total);
            int current = previous.CountOf(m.Name);
            bool mayOnlyGain = (m.Name == changed) == changedGrows;
            int from = mayOnlyGain ? Math.Max(floor, current) : floor;
            int to = mayOnlyGain ? ceiling : Math.Min(ceiling, current);
            if (m.Name == changed && previous.IndexOf(changed) < 0)
            {
                (from, to) = (floor, ceiling); // a newcomer starts from nothing
            }

            if (from > to)
            {
                return false;
            }

            low += from;
            high += to;
        }

        return low <= b && b <= high;
    }

    /// <summary>Buckets only leave members that shrink (or left) and only reach members that grow; members that keep their count keep their buckets.</summary>
    public static void AssertMovesOnlyFromShrinkingToGrowing(BucketTable previous, BucketTable next)
    {
        foreach (var move in previous.Diff(next))
        {
            if (move.From is { } from)
            {
                Assert.IsTrue(next.CountOf(from) < previous.CountOf(from),
                    $"bucket {move.Bucket} left {from}, whose count went {previous.CountOf(from)} -> {next.CountOf(from)}");
            }

            if (move.To is { } to)
            {
                Assert.IsTrue(next.CountOf(to) > previous.CountOf(to),
                    $"bucket {move.Bucket} reached {to}, whose count went {previous.CountOf(to)} -> {next.CountOf(to)}");
            }
        }
    }

    /// <summary>Diff agrees with a bucket-by-bucket comparison of owners.</summary>
    public static void AssertDiffConsistent(BucketTable previous, BucketTable next)
    {
        var moves = previous.Diff(next);
        int expected = 0;
        for (int bucket = 0; bucket < previous.BucketCount; bucket++)
        {
            if (!string.Equals(previous.OwnerOf(bucket), next.OwnerOf(bucket), StringComparison.Ordinal))
            {
                expected++;
            }
        }

        Assert.AreEqual(expected, moves.Length, "diff size");
        foreach (var move in moves)
        {
            Assert.AreEqual(previous.OwnerOf(move.Bucket), move.From);
            Assert.AreEqual(next.OwnerOf(move.Bucket), move.To);
        }
    }
}

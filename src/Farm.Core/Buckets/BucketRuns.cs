namespace Farm.Core.Buckets;

/// <summary>Sorted bucket lists as runs of consecutive buckets: the compact form of nft set elements and drain reports.</summary>
public static class BucketRuns
{
    /// <summary>The runs of <paramref name="sorted"/> (ascending, distinct) as inclusive (start, end) pairs: 0,2,3,4 → (0,0), (2,4).</summary>
    public static IEnumerable<(int Start, int End)> Of(IReadOnlyList<int> sorted)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        for (int i = 0; i < sorted.Count;)
        {
            int start = sorted[i];
            int end = start;
            while (++i < sorted.Count && sorted[i] == end + 1)
            {
                end = sorted[i];
            }

            yield return (start, end);
        }
    }
}

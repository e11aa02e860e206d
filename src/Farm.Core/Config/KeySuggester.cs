namespace Farm.Core.Config;

/// <summary>Finds the valid key nearest to a misspelled one, so an error can say "did you mean ...?".</summary>
internal static class KeySuggester
{
    /// <summary>The nearest candidate by edit distance (a swap of two neighbours counts as one edit), or null when none is close.</summary>
    public static string? Nearest(string key, IEnumerable<string> candidates)
    {
        string lowered = key.ToLowerInvariant();
        string? best = null;
        int bestDistance = int.MaxValue;
        // Beyond a third of the word, a "suggestion" is a guess that misleads more than it helps.
        int limit = Math.Max(2, key.Length / 3);
        foreach (var candidate in candidates)
        {
            // The distance is at least the difference in length: skip the quadratic table for hopeless (or huge) keys.
            if (Math.Abs(lowered.Length - candidate.Length) > limit)
            {
                continue;
            }

            int d = Distance(lowered, candidate);
            if (d < bestDistance)
            {
                best = candidate;
                bestDistance = d;
            }
        }

        return bestDistance <= limit ? best : null;
    }

    /// <summary>Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent transpositions.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}

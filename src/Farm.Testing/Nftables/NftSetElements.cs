using System.Text.Json;

namespace Farm.Testing.Nftables;

/// <summary>Reads the elements of a set from <c>nft -j list set FAMILY TABLE SET</c> output.</summary>
public static class NftSetElements
{
    /// <summary>
    /// The set's elements, each as its components in key order (one component for a plain key, several for a
    /// concatenation); addresses stay text, numbers are decimal text.
    /// </summary>
    /// <exception cref="FormatException">The output has no set object or an element of an unknown shape.</exception>
    public static IReadOnlyList<IReadOnlyList<string>> Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var document = JsonDocument.Parse(json);
        foreach (var item in document.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (!item.TryGetProperty("set", out var set))
            {
                continue; // the metainfo object
            }

            var elements = new List<IReadOnlyList<string>>();
            if (set.TryGetProperty("elem", out var elems))
            {
                foreach (var element in elems.EnumerateArray())
                {
                    elements.Add(Components(element));
                }
            }

            return elements;
        }

        throw new FormatException("nft JSON output holds no set.");
    }

    private static IReadOnlyList<string> Components(JsonElement element)
    {
        // Elements with timeouts or counters come wrapped as {"elem": {"val": KEY, ...}}.
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("elem", out var wrapped))
        {
            return Components(wrapped.GetProperty("val"));
        }

        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("concat", out var concat))
        {
            return [.. concat.EnumerateArray().Select(Scalar)];
        }

        return [Scalar(element)];
    }

    private static string Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number => value.GetUInt64().ToString(CultureInfo.InvariantCulture),
        _ => throw new FormatException($"Unexpected nft set element component: {value.GetRawText()}"),
    };
}

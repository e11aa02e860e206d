using System.Globalization;
using System.Text;

namespace Farm.Core.Text;

/// <summary>
/// Makes untrusted text (script output, values quoted from a configuration file) safe to print on a terminal or in a
/// log: control characters, which could move the cursor, clear the screen, retitle the window or hide what follows
/// (ESC sequences, CR, 8-bit CSI), and bidirectional overrides, which could reorder what a reader sees, are written
/// out as <c>\xNN</c> / <c>\uNNNN</c>. Tabs stay.
/// </summary>
public static class PrintableText
{
    /// <summary>
    /// <paramref name="text"/> with every unsafe character escaped; the same instance when there is none. With
    /// <paramref name="maxLength"/> the result is cut there and ends with "...".
    /// </summary>
    public static string Neutralize(string text, int maxLength = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 3);
        int first = IndexOfUnsafe(text);
        if (first < 0 && text.Length <= maxLength)
        {
            return text;
        }

        var sb = new StringBuilder(Math.Min(text.Length, maxLength) + 16);
        foreach (char c in text)
        {
            if (sb.Length >= maxLength - 3)
            {
                sb.Length = maxLength - 3;
                return sb.Append("...").ToString();
            }

            if (!IsUnsafe(c))
            {
                sb.Append(c);
            }
            else if (c <= 0xff)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            }
            else
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
        }

        return sb.Length > maxLength ? sb.ToString(0, maxLength - 3) + "..." : sb.ToString();
    }

    /// <summary>True when <paramref name="text"/> holds nothing <see cref="Neutralize"/> would change (its length aside).</summary>
    public static bool IsSafe(string text) => IndexOfUnsafe(text) < 0;

    private static int IndexOfUnsafe(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (IsUnsafe(text[i]))
            {
                return i;
            }
        }

        return -1;
    }

    // C0 controls but tab, DEL, C1 controls (0x9b is an 8-bit CSI), and the bidi embeddings, overrides and isolates.
    private static bool IsUnsafe(char c) =>
        (c < 0x20 && c != '\t') || c is >= '\u007f' and <= '\u009f' || c is >= '\u202a' and <= '\u202e' || c is >= '\u2066' and <= '\u2069';
}

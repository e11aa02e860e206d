using Farm.Core.Text;

namespace Farm.Modules.Scripts;

/// <summary>
/// Splits a script's output into lines of at most <see cref="MaxLineLength"/> characters, made printable: a script
/// that writes a gigabyte without a newline costs one buffer, not a gigabyte, and its escape sequences reach no
/// terminal or log as such (<see cref="PrintableText"/>).
/// </summary>
internal sealed class ScriptOutputReader(TextReader reader, int maxLineLength = ScriptOutputReader.MaxLineLength)
{
    /// <summary>Longest line kept; the rest of a longer line is dropped and the line says so.</summary>
    public const int MaxLineLength = 4096;

    private readonly char[] chunk = new char[4096];
    private readonly System.Text.StringBuilder line = new();
    private int position;
    private int filled;
    private bool cut;
    private long dropped;

    /// <summary>The next line (without its line end, printable), or null at the end of the output.</summary>
    public async Task<string?> ReadLineAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (position == filled)
            {
                filled = await reader.ReadAsync(chunk.AsMemory(), cancellationToken);
                position = 0;
                if (filled == 0)
                {
                    return line.Length > 0 || cut ? Take() : null;
                }
            }

            while (position < filled)
            {
                char c = chunk[position++];
                if (c == '\n')
                {
                    return Take();
                }

                if (line.Length < maxLineLength)
                {
                    line.Append(c);
                }
                else
                {
                    cut = true;
                    dropped++;
                }
            }
        }
    }

    private string Take()
    {
        if (line.Length > 0 && line[^1] == '\r')
        {
            line.Length--;
        }

        string text = PrintableText.Neutralize(line.ToString());
        if (cut)
        {
            text += $" [... {dropped} more characters of this line dropped]";
        }

        line.Clear();
        cut = false;
        dropped = 0;
        return text;
    }
}

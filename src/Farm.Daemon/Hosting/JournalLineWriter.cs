namespace Farm.Daemon.Hosting;

/// <summary>
/// Writes through to another writer, starting every line with a syslog priority prefix (<c>&lt;3&gt;</c> = error), which
/// journald reads (<c>SyslogLevelPrefix=</c>, on by default) and strips: <c>journalctl -p err</c> then finds the line.
/// </summary>
internal sealed class JournalLineWriter(TextWriter inner, int priority) : TextWriter(inner.FormatProvider)
{
    private readonly string prefix = $"<{priority}>";
    private bool atLineStart = true;

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value)
    {
        if (atLineStart && value != '\n')
        {
            inner.Write(prefix);
        }

        inner.Write(value);
        atLineStart = value == '\n';
    }

    public override void Write(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        // Line by line keeps the prefix on every line, also on the continuation lines of a multi-line message.
        int start = 0;
        while (start < value.Length)
        {
            int end = value.IndexOf('\n', start);
            int stop = end < 0 ? value.Length : end + 1;
            if (atLineStart && value[start] != '\n')
            {
                inner.Write(prefix);
            }

            inner.Write(value.AsSpan(start, stop - start));
            atLineStart = end >= 0;
            start = stop;
        }
    }

    public override void WriteLine(string? value)
    {
        Write(value);
        Write(CoreNewLine);
    }

    public override void Flush() => inner.Flush();
}

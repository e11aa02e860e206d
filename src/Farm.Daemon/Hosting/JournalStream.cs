namespace Farm.Daemon.Hosting;

/// <summary>
/// Tells whether a standard stream is connected to the systemd journal: systemd sets <c>$JOURNAL_STREAM</c> to the
/// <c>DEVICE:INODE</c> of the stream socket it gave the service. A child that inherited the variable but writes to a
/// pipe or a file does not match, so it gets no <c>&lt;N&gt;</c> priority prefixes.
/// </summary>
internal static class JournalStream
{
    /// <summary>True when file descriptor <paramref name="fd"/> (1 stdout, 2 stderr) of this process is the journal stream.</summary>
    public static bool IsConnected(int fd)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        string? target;
        try
        {
            target = new FileInfo(string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{fd}")).LinkTarget;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        return Matches(Environment.GetEnvironmentVariable("JOURNAL_STREAM"), target);
    }

    /// <summary>
    /// True when <paramref name="journalStream"/> (<c>DEVICE:INODE</c>) names the socket <paramref name="linkTarget"/>
    /// (what <c>/proc/self/fd/N</c> points to, e.g. <c>socket:[12345]</c>). Sockets all live on one device, so the
    /// inode decides.
    /// </summary>
    public static bool Matches(string? journalStream, string? linkTarget)
    {
        if (string.IsNullOrEmpty(journalStream) || string.IsNullOrEmpty(linkTarget))
        {
            return false;
        }

        int colon = journalStream.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !ulong.TryParse(journalStream.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode))
        {
            return false;
        }

        return string.Equals(linkTarget, string.Create(CultureInfo.InvariantCulture, $"socket:[{inode}]"), StringComparison.Ordinal);
    }
}

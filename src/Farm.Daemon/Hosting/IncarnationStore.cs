using Farm.Native.Linux;

namespace Farm.Daemon.Hosting;

/// <summary>
/// The run's incarnation, kept in the state folder (<c>incarnation-NODE</c>) so that it strictly increases across
/// restarts even when the clock stepped back: peers refuse a run older than one they heard (replay protection), so a
/// restarted node whose clock went back by a minute would otherwise stay out of the farm for that minute.
/// </summary>
internal static class IncarnationStore
{
    /// <summary>The file name's prefix; the node's name follows.</summary>
    public const string FilePrefix = "incarnation-";

    /// <summary>The next incarnation: the clock, or one more than the last one when the clock is not ahead of it.</summary>
    public static long Next(long clock, long? last) => last is { } l && l >= clock ? (l == long.MaxValue ? l : l + 1) : clock;

    /// <summary>
    /// Reads the last incarnation of <paramref name="node"/>, stores and returns the next one. When the folder cannot
    /// hold it, returns the clock and says why in <paramref name="warning"/> (farmd still starts).
    /// </summary>
    public static long Allocate(string stateDirectory, string node, long clock, IFileInspector files, out string? warning)
    {
        ArgumentNullException.ThrowIfNull(files);
        warning = null;
        string path = Path.Combine(stateDirectory, FilePrefix + node);
        long? last = null;
        try
        {
            if (PrivateFiles.EnsurePrivateDirectory(stateDirectory, files) is { } problem)
            {
                warning = $"the incarnation is not kept: {problem}; a clock stepped back makes peers refuse this run until it catches up";
                return clock;
            }

            if (PrivateFiles.ReadNoFollow(path, 64, files) is { } content)
            {
                if (long.TryParse(Encoding.ASCII.GetString(content).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long stored))
                {
                    last = stored;
                }
                else
                {
                    warning = $"{path} does not hold a number; starting again from the clock";
                }
            }

            long next = Next(clock, last);
            PrivateFiles.WriteAtomic(path, Encoding.ASCII.GetBytes(next.ToString(CultureInfo.InvariantCulture) + "\n"));
            return next;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            warning = $"cannot keep the incarnation in {path}: {ex.Message}; a clock stepped back makes peers refuse this run until it catches up";
            return Next(clock, last);
        }
    }
}

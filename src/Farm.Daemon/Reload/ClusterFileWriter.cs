using System.Text;

namespace Farm.Daemon.Reload;

/// <summary>Replaces a cluster file so that a reader (or a crash) sees the old file or the new one, never a mix.</summary>
internal static class ClusterFileWriter
{
    /// <summary>
    /// Writes <paramref name="text"/> to a temporary file beside <paramref name="path"/>, flushes it to the disk, gives
    /// it the old file's permissions and renames it over the old file. A symbolic link is followed: its final target
    /// is replaced and the link stays. Returns the file replaced.
    /// </summary>
    /// <exception cref="IOException">The folder is not writable, the disk is full, ...: the old file is untouched.</exception>
    /// <exception cref="UnauthorizedAccessException">No permission: the old file is untouched.</exception>
    public static string Replace(string path, string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(text);
        var info = new FileInfo(path);
        string target = info.LinkTarget is not null ? info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName : info.FullName;
        string directory = Path.GetDirectoryName(target) ?? ".";
        string temporary = Path.Combine(directory, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        UnixFileMode? mode = OperatingSystem.IsWindows() ? null : File.GetUnixFileMode(target);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (mode is { } m && !OperatingSystem.IsWindows())
            {
                // Never readable by others in between, even for a moment: the file holds the cluster key.
                options.UnixCreateMode = m & (UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));
                stream.Flush(flushToDisk: true);
            }

            if (mode is { } final && !OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temporary, final);
            }

            File.Move(temporary, target, overwrite: true);
            return target;
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The original error matters more; a leftover .tmp file is harmless.
        }
    }
}

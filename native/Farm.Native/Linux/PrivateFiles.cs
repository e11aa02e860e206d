using Farm.Core.Security;

namespace Farm.Native.Linux;

/// <summary>
/// Files farmd keeps for itself (state, incarnation, its cluster file): written 0600 through a temporary file of a
/// unique name created exclusively (O_EXCL: a symbolic link planted at that name is never followed) and renamed over
/// the target (rename(2) replaces a link at the target instead of following it); read only when not a symbolic link.
/// </summary>
internal static class PrivateFiles
{
    /// <summary>Owner read and write only.</summary>
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Replaces <paramref name="path"/> with <paramref name="content"/> atomically: a crash leaves the old file or the new one.</summary>
    /// <exception cref="IOException">The folder is not writable, the disk is full...: the old file is untouched.</exception>
    /// <exception cref="UnauthorizedAccessException">No permission: the old file is untouched.</exception>
    public static void WriteAtomic(string path, ReadOnlySpan<byte> content)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        string temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerOnly;
            }

            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>
    /// The content of <paramref name="path"/>, or null when it does not exist; refuses a symbolic link or anything but
    /// a regular file, and a file larger than <paramref name="maxBytes"/>.
    /// </summary>
    /// <exception cref="IOException">A link, not a regular file, too large, or unreadable.</exception>
    public static byte[]? ReadNoFollow(string path, int maxBytes, IFileInspector files)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Inspect(path, followLinks: false) is not { } facts)
        {
            return null;
        }

        if (facts.Kind != FileKind.Regular)
        {
            throw new IOException($"{path} is {(facts.Kind == FileKind.SymbolicLink ? "a symbolic link" : "not a regular file")}; farmd reads only its own regular files there");
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        byte[] buffer = new byte[maxBytes + 1];
        int length = 0;
        for (int read; length < buffer.Length && (read = stream.Read(buffer, length, buffer.Length - length)) > 0;)
        {
            length += read;
        }

        return length > maxBytes ? throw new IOException($"{path} is larger than {maxBytes} bytes") : buffer[..length];
    }

    /// <summary>
    /// Creates <paramref name="directory"/> (mode 0700) when missing, then returns why it cannot hold farmd's private
    /// files (see <see cref="FileTrust.PrivateDirectoryProblem"/>), or null.
    /// </summary>
    public static string? EnsurePrivateDirectory(string directory, IFileInspector files)
    {
        ArgumentNullException.ThrowIfNull(files);
        try
        {
            if (!Directory.Exists(directory))
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(directory);
                }
                else
                {
                    Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }

            return files.Inspect(directory) is { } facts
                ? FileTrust.PrivateDirectoryProblem(facts, files.EffectiveUid)
                : $"{directory} vanished while it was being created";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"cannot create {directory}: {ex.Message}";
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
            // The original error matters more; a leftover temporary file is harmless.
        }
    }
}

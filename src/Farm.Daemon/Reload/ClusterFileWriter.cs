using Farm.Native.Linux;

namespace Farm.Daemon.Reload;

/// <summary>Replaces a cluster file so that a reader (or a crash) sees the old file or the new one, never a mix.</summary>
internal static class ClusterFileWriter
{
    /// <summary>
    /// Writes <paramref name="text"/> to a temporary file of a unique name beside <paramref name="path"/>, created
    /// exclusively with mode 0600 (the file may hold the cluster key; a link planted at that name is not followed),
    /// flushes it to the disk and renames it over the old file. The new file is 0600 whatever the old one's mode was. A
    /// symbolic link at <paramref name="path"/> is followed: its final target is replaced and the link stays. Returns
    /// the file replaced.
    /// </summary>
    /// <exception cref="IOException">The folder is not writable, the disk is full, ...: the old file is untouched.</exception>
    /// <exception cref="UnauthorizedAccessException">No permission: the old file is untouched.</exception>
    public static string Replace(string path, string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(text);
        var info = new FileInfo(path);
        string target = info.LinkTarget is not null ? info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName : info.FullName;
        PrivateFiles.WriteAtomic(target, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));
        return target;
    }
}

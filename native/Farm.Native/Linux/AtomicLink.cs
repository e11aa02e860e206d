using System.Runtime.InteropServices;

namespace Farm.Native.Linux;

/// <summary>
/// Points a symbolic link at a new target so that every reader sees the old target or the new one, never a missing link:
/// a new link of a unique name beside it, then rename(2) over the old one (File.Move cannot: it follows links).
/// </summary>
internal static class AtomicLink
{
    /// <summary>Makes <paramref name="link"/> a symbolic link to <paramref name="target"/> (as written, e.g. relative), replacing what is there.</summary>
    /// <exception cref="IOException">The link could not be created or renamed; <paramref name="link"/> is as before.</exception>
    public static void Replace(string link, string target)
    {
        ArgumentException.ThrowIfNullOrEmpty(link);
        ArgumentException.ThrowIfNullOrEmpty(target);
        string full = Path.GetFullPath(link);
        string temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.link");
        File.CreateSymbolicLink(temporary, target);
        if (LibC.Rename(temporary, full) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            File.Delete(temporary);
            throw new IOException($"cannot replace {full}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
    }

    /// <summary>Renames <paramref name="from"/> to <paramref name="to"/> with rename(2) (a directory too; <paramref name="to"/> must not be a non-empty directory).</summary>
    /// <exception cref="IOException">The rename failed; nothing moved.</exception>
    public static void Rename(string from, string to)
    {
        if (LibC.Rename(from, to) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"cannot rename {from} to {to}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
    }
}

using System.Globalization;
using System.Runtime.InteropServices;

namespace Farm.Native.Linux;

/// <summary>Group names to ids (through NSS, like <c>getent group</c>) and group ownership of files.</summary>
internal static class UnixGroups
{
    // struct group: char *gr_name, char *gr_passwd, gid_t gr_gid, char **gr_mem.
    private static readonly int GidOffset = 2 * IntPtr.Size;

    /// <summary>The gid of <paramref name="group"/> (a name, or a number), or null when there is no such group.</summary>
    public static unsafe uint? Resolve(string group)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        if (uint.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out uint gid))
        {
            return gid;
        }

        byte* entry = stackalloc byte[64];
        byte[] buffer = new byte[64 * 1024];
        fixed (byte* strings = buffer)
        {
            byte* result = null;
            int error = LibC.GetGroupByName(group, entry, strings, (nuint)buffer.Length, &result);
            return error == 0 && result is not null ? (uint)Marshal.ReadInt32((nint)entry, GidOffset) : null;
        }
    }

    /// <summary>Gives <paramref name="path"/> to group <paramref name="gid"/>, keeping its owner.</summary>
    /// <exception cref="IOException">chown failed.</exception>
    public static void SetGroup(string path, uint gid)
    {
        if (LibC.Chown(path, uint.MaxValue, gid) != 0)
        {
            throw new IOException($"cannot give {path} to group {gid}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }
}

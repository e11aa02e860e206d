using System.Text;
using Farm.Core.Config;

namespace Farm.Native.Linux;

/// <summary>Reads a configuration file for the parser, within <see cref="ConfigLimits.MaxFileLength"/>.</summary>
internal static class ConfigFileText
{
    /// <summary>
    /// The text of <paramref name="file"/>; a file larger than the limit is refused before it is read (a wrong path,
    /// such as a disk image or /dev/zero, must not be read into memory).
    /// </summary>
    /// <exception cref="IOException">Unreadable, or larger than the limit (the message says so).</exception>
    /// <exception cref="UnauthorizedAccessException">No permission.</exception>
    public static string Read(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (stream.CanSeek && stream.Length > ConfigLimits.MaxFileLength)
        {
            throw new IOException($"the file holds {stream.Length} bytes, more than the limit of {ConfigLimits.MaxFileLength} (a configuration file is a few kilobytes: check the path)");
        }

        using var reader = new StreamReader(stream, Encoding.UTF8);
        var buffer = new char[ConfigLimits.MaxFileLength + 1];
        int length = reader.ReadBlock(buffer, 0, buffer.Length);
        return length > ConfigLimits.MaxFileLength
            ? throw new IOException($"the file holds more than {ConfigLimits.MaxFileLength} characters (a configuration file is a few kilobytes: check the path)")
            : new string(buffer, 0, length);
    }
}

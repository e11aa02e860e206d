using System.Text;
using Farm.Core.Config;
using Farm.Core.Security;

namespace Farm.Native.Linux;

/// <summary>
/// Reads a cluster file's <c>key_file</c> for the parser: a relative path starts at the cluster file's folder; only a
/// regular file is read, and at most <see cref="ConfigLimits.MaxKeyFileBytes"/> of it (<c>key_file: /dev/zero</c>
/// must not hang farmd).
/// </summary>
internal sealed class KeyFileReader(string baseDirectory, IFileInspector files) : IKeyFileReader
{
    /// <summary>A reader for the key file of the cluster file <paramref name="clusterFile"/>.</summary>
    public static KeyFileReader For(string clusterFile, IFileInspector files) =>
        new(Path.GetDirectoryName(Path.GetFullPath(clusterFile)) ?? "/", files);

    /// <summary>The absolute path of <paramref name="keyFile"/> as written in the cluster file.</summary>
    public string Resolve(string keyFile) => Path.GetFullPath(keyFile, baseDirectory);

    public string Read(string path)
    {
        string full = Resolve(path);
        var facts = files.Inspect(full) ?? throw new FileNotFoundException("no such file", full);
        if (facts.Kind != FileKind.Regular)
        {
            throw new IOException("not a regular file");
        }

        using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        byte[] buffer = new byte[ConfigLimits.MaxKeyFileBytes + 1];
        int length = 0;
        for (int read; length < buffer.Length && (read = stream.Read(buffer, length, buffer.Length - length)) > 0;)
        {
            length += read;
        }

        if (length > ConfigLimits.MaxKeyFileBytes)
        {
            throw new IOException($"larger than {ConfigLimits.MaxKeyFileBytes} bytes");
        }

        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(buffer, 0, length);
        }
        catch (DecoderFallbackException)
        {
            throw new IOException("not UTF-8 text");
        }
    }
}

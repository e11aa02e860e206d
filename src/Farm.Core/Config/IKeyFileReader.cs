namespace Farm.Core.Config;

/// <summary>
/// Reads the file a cluster file's <c>key_file</c> names, for the parser: Farm.Core does no I/O, so farmd and farmctl
/// pass their own reader (bounded to <see cref="ConfigLimits.MaxKeyFileBytes"/>).
/// </summary>
public interface IKeyFileReader
{
    /// <summary>
    /// The text of the key file <paramref name="path"/>, as written in the cluster file: a relative path is resolved
    /// against the folder of the cluster file by the reader.
    /// </summary>
    /// <exception cref="IOException">No such file, not a regular file, larger than the limit, or unreadable.</exception>
    /// <exception cref="UnauthorizedAccessException">No permission to read it.</exception>
    string Read(string path);
}

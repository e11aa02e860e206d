namespace Farm.Core.Security;

/// <summary>The OS boundary of the trust checks: who owns a file and who may read or write it (stat(2)).</summary>
public interface IFileInspector
{
    /// <summary>The effective uid of this process: besides root, the only owner trusted with its files.</summary>
    uint EffectiveUid { get; }

    /// <summary>Facts about <paramref name="path"/>, following symbolic links unless <paramref name="followLinks"/> is false; null when it does not exist.</summary>
    /// <exception cref="IOException">It exists but cannot be inspected.</exception>
    FileFacts? Inspect(string path, bool followLinks = true);
}

namespace Farm.Core.Security;

/// <summary>The kind of a file, as far as the trust checks care.</summary>
public enum FileKind
{
    /// <summary>A regular file.</summary>
    Regular,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A symbolic link (seen only when links are not followed).</summary>
    SymbolicLink,

    /// <summary>A device, socket, pipe...</summary>
    Other,
}

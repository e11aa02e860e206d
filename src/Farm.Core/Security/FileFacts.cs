namespace Farm.Core.Security;

/// <summary>What the trust checks need to know about a file: its owner, group, permission bits and kind.</summary>
/// <param name="Path">The path inspected, for messages.</param>
/// <param name="OwnerUid">Numeric owner.</param>
/// <param name="GroupGid">Numeric group.</param>
/// <param name="Mode">Permission bits (with setuid, setgid and sticky), without the file type.</param>
/// <param name="Kind">Regular file, directory, symbolic link (only when links are not followed) or other.</param>
public readonly record struct FileFacts(string Path, uint OwnerUid, uint GroupGid, UnixFileMode Mode, FileKind Kind);

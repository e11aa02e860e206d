using System.Globalization;

namespace Farm.Core.Security;

/// <summary>
/// The local trust rules (pure): which files farmd may take a secret from, run as root, or keep its state and admin
/// socket in. A file is trusted when root (or the user farmd runs as) owns it and nobody else may change it; a secret
/// also must not be readable by anyone else. Each check returns why a file fails, or null.
/// </summary>
public static class FileTrust
{
    private const UnixFileMode GroupOrOtherRead = UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode GroupOrOtherWrite = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
    private const UnixFileMode GroupOrOther = GroupOrOtherRead | GroupOrOtherWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>A file holding a secret (the cluster key): a regular file, owned by root or <paramref name="selfUid"/>, mode 0600 or stricter.</summary>
    public static string? SecretFileProblem(FileFacts file, uint selfUid)
    {
        if (file.Kind != FileKind.Regular)
        {
            return $"{file.Path} is not a regular file";
        }

        if (OwnerProblem(file, selfUid) is { } owner)
        {
            return owner;
        }

        if ((file.Mode & GroupOrOtherRead) != 0)
        {
            return $"{file.Path} is readable by group or others (mode {Octal(file.Mode)}): run 'chmod 600 {file.Path}'";
        }

        return (file.Mode & GroupOrOther) != 0
            ? $"{file.Path} gives group or others access (mode {Octal(file.Mode)}): run 'chmod 600 {file.Path}'"
            : null;
    }

    /// <summary>A file or folder farmd runs or reads instructions from as root: owned by root or <paramref name="selfUid"/>, not writable by group or others.</summary>
    public static string? TrustedFileProblem(FileFacts file, uint selfUid)
    {
        if (OwnerProblem(file, selfUid) is { } owner)
        {
            return owner;
        }

        // A symbolic link's own mode is always 0777 and means nothing; its target is checked on its own.
        return file.Kind != FileKind.SymbolicLink && (file.Mode & GroupOrOtherWrite) != 0
            ? $"{file.Path} is writable by {Who(file.Mode)} (mode {Octal(file.Mode)}): run 'chmod go-w {file.Path}'"
            : null;
    }

    /// <summary>A folder only farmd may use (the admin socket's, the state folder): a directory, owned by root or <paramref name="selfUid"/>, not writable by group or others.</summary>
    public static string? PrivateDirectoryProblem(FileFacts directory, uint selfUid)
    {
        if (directory.Kind != FileKind.Directory)
        {
            return $"{directory.Path} is not a directory";
        }

        return TrustedFileProblem(directory, selfUid);
    }

    /// <summary>The permission bits in octal, as chmod takes them (e.g. <c>0640</c>).</summary>
    public static string Octal(UnixFileMode mode) => Convert.ToString((int)mode & 0xfff, 8).PadLeft(4, '0');

    private static string? OwnerProblem(FileFacts file, uint selfUid) =>
        file.OwnerUid == 0 || file.OwnerUid == selfUid
            ? null
            : $"{file.Path} is owned by uid {file.OwnerUid.ToString(CultureInfo.InvariantCulture)}, not by root: run 'chown root: {file.Path}'";

    private static string Who(UnixFileMode mode) =>
        (mode & GroupOrOtherWrite) == GroupOrOtherWrite ? "group and others" : (mode & UnixFileMode.OtherWrite) != 0 ? "others" : "its group";
}

namespace Farm.Core.Config;

/// <summary>
/// What an interface name in a configuration may be: the one rule shared by the parser and the nftables builder, so a
/// name <c>farmctl config check</c> accepts is never refused later by the data plane.
/// </summary>
public static class InterfaceName
{
    /// <summary>Longest Linux interface name (IFNAMSIZ 16 minus the terminating NUL).</summary>
    public const int MaxLength = 15;

    /// <summary>
    /// True for 1 to 15 ASCII letters, digits, '-', '_', '.' and '@', other than "." and "..": every name Linux tools
    /// create, and nothing that could end a quoted string in nft text or leave /sys/class/net.
    /// </summary>
    public static bool IsValid(string? name) =>
        name is { Length: >= 1 and <= MaxLength } && name is not ("." or "..") &&
        name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '@');
}

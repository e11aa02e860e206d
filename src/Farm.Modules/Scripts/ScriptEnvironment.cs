namespace Farm.Modules.Scripts;

/// <summary>
/// The environment a script starts with, before the <c>FARM_*</c> variables of its run: a fixed, documented set, not
/// farmd's own environment (which may hold NOTIFY_SOCKET, DOTNET_* settings or whatever the service manager passed).
/// </summary>
internal static class ScriptEnvironment
{
    /// <summary>The search path of every script (Debian's root default).</summary>
    public const string Path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>The locale: UTF-8, messages in English, so logged output is readable and stable.</summary>
    public const string Lang = "C.UTF-8";

    /// <summary>
    /// PATH, LANG, HOME (farmd's when it is an absolute path, else <c>/</c>) and TZ when farmd has one: the whole
    /// environment of a script besides its <c>FARM_*</c> variables.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Base(Func<string, string?> daemonVariable)
    {
        ArgumentNullException.ThrowIfNull(daemonVariable);
        string? home = daemonVariable("HOME");
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = Path,
            ["LANG"] = Lang,
            ["HOME"] = home is { Length: > 0 } && home.StartsWith('/') ? home : "/",
        };
        if (daemonVariable("TZ") is { Length: > 0 } tz)
        {
            variables["TZ"] = tz;
        }

        return variables;
    }
}

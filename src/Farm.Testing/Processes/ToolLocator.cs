namespace Farm.Testing.Processes;

/// <summary>Finds system tools such as <c>ip</c> and <c>nft</c>, also in the sbin folders a non-login PATH may lack.</summary>
public static class ToolLocator
{
    private static readonly string[] SystemFolders = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    /// <summary>The full path of an executable named <paramref name="name"/>, or null when none exists.</summary>
    public static string? Find(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(SystemFolders);
        foreach (string folder in folders)
        {
            string candidate = Path.Combine(folder, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The full path of <paramref name="name"/>; throws naming the package to install when it is missing.</summary>
    public static string Require(string name, string package) =>
        Find(name) ?? throw new FileNotFoundException($"Tool '{name}' was not found in PATH or the sbin folders; install the '{package}' package.", name);
}

using System.Reflection;

namespace Farm.Installer.Tests.TestSupport;

/// <summary>Paths in the checkout the tests were built from.</summary>
internal static class Repository
{
    /// <summary>The repository's root folder.</summary>
    public static string Root { get; } = typeof(Repository).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepositoryRoot").Value!;

    /// <summary><c>installer/package.sh</c>.</summary>
    public static string PackageScript => Path.Combine(Root, "installer", "package.sh");

    /// <summary>The script that builds (or finds cached) the Debian 12 root file system of the containers.</summary>
    public static string RootFileSystemScript => Path.Combine(Root, "tests", "Farm.Installer.Tests", "scripts", "build-rootfs.sh");
}

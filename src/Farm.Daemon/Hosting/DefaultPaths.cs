namespace Farm.Daemon.Hosting;

/// <summary>Where farmd looks when the command line names no file: the package's layout.</summary>
internal static class DefaultPaths
{
    /// <summary><c>/etc/farm</c> (on Windows <c>%ProgramData%\Farm</c>).</summary>
    public static string ConfigDirectory { get; } = OperatingSystem.IsWindows()
        ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "Farm")
        : "/etc/farm";

    /// <summary>The cluster file: <c>/etc/farm/cluster.yaml</c>.</summary>
    public static string ClusterFile { get; } = Path.Combine(ConfigDirectory, "cluster.yaml");

    /// <summary>The modules folder: <c>/etc/farm/modules</c>; a missing folder means no module.</summary>
    public static string ModulesDirectory { get; } = Path.Combine(ConfigDirectory, "modules");
}

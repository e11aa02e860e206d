namespace Farm.Core.Config;

/// <summary>The outcome of parsing a configuration file of either kind (see <see cref="ConfigParser.Parse"/>).</summary>
/// <param name="Kind">The kind told by the top-level key.</param>
/// <param name="Cluster">The validated cluster model when <paramref name="Kind"/> is Cluster and there are no errors.</param>
/// <param name="Module">The validated module model when <paramref name="Kind"/> is Module and there are no errors.</param>
/// <param name="Errors">Every error found, in file order.</param>
public sealed record ConfigFileResult(ConfigFileKind Kind, ClusterConfig? Cluster, ModuleConfig? Module, IReadOnlyList<ConfigError> Errors)
{
    /// <summary>True when the file is valid.</summary>
    public bool Succeeded => Errors.Count == 0 && (Cluster is not null || Module is not null);
}

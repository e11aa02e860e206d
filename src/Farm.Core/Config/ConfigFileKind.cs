namespace Farm.Core.Config;

/// <summary>Which kind of configuration file a text is, told by its single top-level key.</summary>
public enum ConfigFileKind
{
    /// <summary>Neither <c>cluster:</c> nor <c>module:</c> at the top (or the YAML is unreadable).</summary>
    Unknown,

    /// <summary>The site-specific cluster file (top-level key <c>cluster:</c>).</summary>
    Cluster,

    /// <summary>A module's <c>farm.yaml</c> (top-level key <c>module:</c>).</summary>
    Module,
}

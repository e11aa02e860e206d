using System.Diagnostics.CodeAnalysis;

namespace Farm.Core.Config;

/// <summary>How a module spreads its traffic (module file <c>mode</c>).</summary>
public enum ModuleMode
{
    /// <summary><c>balance</c>: every UP node owns a share of the buckets in proportion to its weight.</summary>
    Balance,

    /// <summary><c>single</c>: active/passive; the UP node with the highest priority owns every bucket.</summary>
    [SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "Mirrors the YAML value 'single'.")]
    Single,
}

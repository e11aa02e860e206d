namespace Farm.Core.Buckets;

/// <summary>How a module's buckets are shared among the members of a view.</summary>
public enum BucketMode
{
    /// <summary>Every member with a weight owns a weight-proportional share (active/active farm).</summary>
    Balance,

    /// <summary>One member owns every bucket and the others stand by (active/passive).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "'single' is the mode's name in module configuration.")]
    Single,
}

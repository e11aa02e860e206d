using System.Collections.Immutable;
using Farm.Cluster.Membership;

namespace Farm.Testing.Ownership;

/// <summary>Builds the ownership snapshots membership hands the data plane, for data plane tests without a farm.</summary>
public static class OwnershipSnapshots
{
    /// <summary>A snapshot of version <paramref name="version"/> (view epoch = version) with one module's states.</summary>
    public static OwnershipSnapshot Of(long version, string module, params BucketState[] states)
    {
        var view = new ViewId(version, "n1", 1);
        var modules = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [
            KeyValuePair.Create(module, new ModuleOwnership(module, [.. states], []))]);
        return new OwnershipSnapshot(version, view, view, modules);
    }
}

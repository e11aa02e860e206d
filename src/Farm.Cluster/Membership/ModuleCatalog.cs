using System.Collections;
using System.Collections.Immutable;

namespace Farm.Cluster.Membership;

/// <summary>
/// The modules this node runs, as the membership roles see them: the list farmd started with, then changed live when a
/// module is loaded, redefined or unloaded (<see cref="MembershipManager.SetModule"/>). Each enumeration reads one
/// immutable list; not thread-safe (the manager's host serializes every call).
/// </summary>
internal sealed class ModuleCatalog(IEnumerable<ModuleSpec> initial) : IReadOnlyList<ModuleSpec>
{
    private ImmutableArray<ModuleSpec> specs = [.. initial];

    /// <inheritdoc />
    public int Count => specs.Length;

    /// <inheritdoc />
    public ModuleSpec this[int index] => specs[index];

    /// <summary>Replaces module <paramref name="name"/> with <paramref name="spec"/> (appended when new), or removes it (null).</summary>
    public void Set(string name, ModuleSpec? spec)
    {
        if (spec is not null && spec.Name != name)
        {
            throw new ArgumentException($"The spec is module {spec.Name}'s, not {name}'s.", nameof(spec));
        }

        int i = specs.Select((s, k) => s.Name == name ? k : -1).FirstOrDefault(k => k >= 0, -1);
        specs = (i, spec) switch
        {
            ( < 0, null) => specs,
            ( < 0, { } added) => specs.Add(added),
            (_, null) => specs.RemoveAt(i),
            (_, { } replaced) => specs.SetItem(i, replaced),
        };
    }

    /// <inheritdoc />
    public IEnumerator<ModuleSpec> GetEnumerator() => ((IEnumerable<ModuleSpec>)specs).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

namespace Farm.Cluster.Membership;

/// <summary>A view member whose definition of a module differs from the one the view agreed on: it gets none of its buckets.</summary>
/// <param name="Module">The module.</param>
/// <param name="Node">The member whose definition differs.</param>
/// <param name="TheirHash">That member's definition hash.</param>
/// <param name="AgreedHash">The agreed definition's hash.</param>
/// <param name="Settings">The settings that differ, as <c>farm.yaml</c> names them (e.g. <c>seed</c>, <c>buckets</c>, <c>rules</c>).</param>
public sealed record ModuleMismatch(string Module, string Node, string TheirHash, string AgreedHash, IReadOnlyList<string> Settings);

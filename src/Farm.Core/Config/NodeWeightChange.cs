namespace Farm.Core.Config;

/// <summary>A node whose weight differs between two cluster files.</summary>
/// <param name="Node">The node's name.</param>
/// <param name="From">Its weight in the running file.</param>
/// <param name="To">Its weight in the new file.</param>
public sealed record NodeWeightChange(string Node, int From, int To);

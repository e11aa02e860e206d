namespace Farm.Daemon.Reload;

/// <summary>What <see cref="ClusterReloader"/> needs from farmd's settings, bound once at start.</summary>
/// <param name="Path">The cluster file's path, as given on the command line.</param>
/// <param name="Loaded">The cluster file farmd started with.</param>
/// <param name="NodeName">This node's name.</param>
internal sealed record ClusterFileOptions(string Path, ClusterConfig Loaded, string NodeName);

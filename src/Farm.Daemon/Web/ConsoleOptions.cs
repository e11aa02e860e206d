namespace Farm.Daemon.Web;

/// <summary>What the console port and its certificate need from farmd's settings, bound once at start.</summary>
/// <param name="ClusterName">The cluster's name (the self-signed certificate's OU).</param>
/// <param name="NodeName">This node's name (the self-signed certificate's CN and DNS name).</param>
/// <param name="Addresses">This node's addresses, after <c>--address-map</c>.</param>
/// <param name="Port">The console port (<c>console_port</c>).</param>
/// <param name="Tls">The configured certificate (<c>console_tls</c>), or null for a self-signed one.</param>
/// <param name="StateDirectory">Where the self-signed certificate is kept.</param>
/// <param name="UsersFile">The console's users file (<c>console_users</c>): when it exists at start, the console needs a login.</param>
internal sealed record ConsoleOptions(
    string ClusterName, string NodeName, IReadOnlyList<IPAddress> Addresses, int Port, ConsoleTlsOptions? Tls, string StateDirectory, string UsersFile)
{
    /// <summary>The console port on each address of this node.</summary>
    public IReadOnlyList<IPEndPoint> Endpoints => [.. Addresses.Select(a => new IPEndPoint(a, Port))];
}

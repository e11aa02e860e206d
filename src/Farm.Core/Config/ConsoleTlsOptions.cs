namespace Farm.Core.Config;

/// <summary>
/// <c>console_tls</c>: the certificate the console port (web console, <c>/metrics</c>, <c>/healthz</c>, <c>/ready</c>)
/// presents. Absent: each node makes a self-signed certificate at its first start and keeps it in its state folder.
/// Paths may hold <c>{node}</c>, replaced by each node's name, so that one file serves every node.
/// </summary>
public sealed record ConsoleTlsOptions
{
    /// <summary><c>certificate</c>: PEM file of the console's certificate (chain allowed). Required, e.g. <c>/etc/farm/console/{node}.crt</c>.</summary>
    public required string Certificate { get; init; }

    /// <summary><c>key</c>: PEM file of its private key (mode 0600). Required, e.g. <c>/etc/farm/console/{node}.key</c>.</summary>
    public required string PrivateKey { get; init; }

    /// <summary>The certificate path of <paramref name="node"/>.</summary>
    public string CertificateOf(string node) => Certificate.Replace(TlsOptions.NodePlaceholder, node, StringComparison.Ordinal);

    /// <summary>The private key path of <paramref name="node"/>.</summary>
    public string PrivateKeyOf(string node) => PrivateKey.Replace(TlsOptions.NodePlaceholder, node, StringComparison.Ordinal);
}

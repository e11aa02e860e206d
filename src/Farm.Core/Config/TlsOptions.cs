namespace Farm.Core.Config;

/// <summary>
/// <c>tls</c>: TLS for peer and remote admin traffic (HTTP/2 over TLS 1.2+), mutual between nodes. Absent: h2c, every
/// message still authenticated by the cluster key (docs/operations.md, "Securing a farm", says when to turn TLS on).
/// Paths may hold <c>{node}</c>, replaced by each node's name, so that one file serves every node.
/// </summary>
public sealed record TlsOptions
{
    /// <summary>The placeholder replaced by the node's name in <see cref="Certificate"/> and <see cref="PrivateKey"/>.</summary>
    public const string NodePlaceholder = "{node}";

    /// <summary><c>ca</c>: PEM file of the cluster CA; peers' certificates must chain to it. Required.</summary>
    public required string CaFile { get; init; }

    /// <summary>
    /// <c>certificate</c>: PEM file of this node's certificate, issued by the CA with the node's name as a DNS name
    /// (subject alternative name); peers check that name. Required, e.g. <c>/etc/farm/tls/{node}.crt</c>.
    /// </summary>
    public required string Certificate { get; init; }

    /// <summary><c>key</c>: PEM file of the certificate's private key (mode 0600). Required, e.g. <c>/etc/farm/tls/{node}.key</c>.</summary>
    public required string PrivateKey { get; init; }

    /// <summary>The certificate path of <paramref name="node"/>.</summary>
    public string CertificateOf(string node) => Certificate.Replace(NodePlaceholder, node, StringComparison.Ordinal);

    /// <summary>The private key path of <paramref name="node"/>.</summary>
    public string PrivateKeyOf(string node) => PrivateKey.Replace(NodePlaceholder, node, StringComparison.Ordinal);
}

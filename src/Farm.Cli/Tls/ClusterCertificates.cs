using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Farm.Cli.Tls;

/// <summary>
/// Makes a cluster CA and one certificate per node (ECDSA P-256, SHA-256): the node's name as its DNS name, for server
/// and client authentication, as farmd's TLS expects (docs/operations.md, "TLS").
/// </summary>
internal static class ClusterCertificates
{
    /// <summary>Default lifetime of the certificates.</summary>
    public const int DefaultDays = 3650;

    /// <summary>The files written, in order: CA certificate and key, then each node's certificate and key.</summary>
    public static IReadOnlyList<string> FilesFor(IEnumerable<string> nodes) =>
        ["ca.crt", "ca.key", .. nodes.SelectMany(n => new[] { n + ".crt", n + ".key" })];

    /// <summary>Writes the CA and node certificates into <paramref name="directory"/>; keys with mode 0600. Never overwrites.</summary>
    public static void Write(ClusterConfig cluster, string directory, int days, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        Directory.CreateDirectory(directory);
        var existing = FilesFor(cluster.Nodes.Select(n => n.Name)).Select(f => Path.Combine(directory, f)).Where(File.Exists).ToList();
        if (existing.Count > 0)
        {
            throw new IOException($"{string.Join(", ", existing)} already exist(s): choose another --out folder or remove them first");
        }

        var notBefore = now.AddDays(-1); // clocks of the nodes may lag a little
        var notAfter = now.AddDays(days);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN=Farm cluster CA {cluster.Name}", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var caSki = new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false);
        caRequest.CertificateExtensions.Add(caSki);
        using var ca = caRequest.CreateSelfSigned(notBefore, notAfter);
        WritePem(Path.Combine(directory, "ca.crt"), ca.ExportCertificatePem(), secret: false);
        WritePem(Path.Combine(directory, "ca.key"), caKey.ExportPkcs8PrivateKeyPem(), secret: true);

        foreach (var node in cluster.Nodes)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN={node.Name}", key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(node.Name);
            request.CertificateExtensions.Add(san.Build());
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
                [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // server and client authentication
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(caSki));
            using var certificate = request.Create(ca, notBefore, notAfter, RandomNumberGenerator.GetBytes(16));
            WritePem(Path.Combine(directory, node.Name + ".crt"), certificate.ExportCertificatePem(), secret: false);
            WritePem(Path.Combine(directory, node.Name + ".key"), key.ExportPkcs8PrivateKeyPem(), secret: true);
        }
    }

    private static void WritePem(string path, string pem, bool secret)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            // The key is never readable by others, not even for a moment.
            options.UnixCreateMode = secret ? UnixFileMode.UserRead | UnixFileMode.UserWrite : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(pem);
        writer.Write('\n');
    }
}

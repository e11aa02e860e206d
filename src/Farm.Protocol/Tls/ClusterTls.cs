using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Farm.Protocol.Tls;

/// <summary>
/// The TLS identity of one node and the cluster CA: a certificate whose DNS name is the node's name, issued by the CA.
/// Peers are verified against the CA and against the node name they are expected to be (not the address dialed).
/// </summary>
public sealed class ClusterTls : IDisposable
{
    private ClusterTls(X509Certificate2 ca, X509Certificate2? certificate)
    {
        Ca = ca;
        Certificate = certificate;
    }

    /// <summary>The cluster CA.</summary>
    public X509Certificate2 Ca { get; }

    /// <summary>This node's certificate with its private key; null for a client that only verifies (farmctl).</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>Loads the CA and, when given, a certificate and its key (PEM files); throws with the file named on failure.</summary>
    public static ClusterTls Load(string caFile, string? certificateFile = null, string? keyFile = null)
    {
        var ca = LoadCa(caFile);
        X509Certificate2? certificate = null;
        if (certificateFile is not null)
        {
            try
            {
                using var ephemeral = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);

                // A PKCS#12 round trip gives the key a form every platform's TLS stack accepts.
                certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                ca.Dispose();
                throw new InvalidOperationException($"cannot load the TLS certificate {certificateFile} with its key {keyFile}: {ex.Message}", ex);
            }
        }

        return new ClusterTls(ca, certificate);
    }

    /// <summary>The DNS names of <paramref name="certificate"/> (subject alternative names).</summary>
    public static IReadOnlyList<string> NamesOf(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var names = new List<string>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension san)
            {
                names.AddRange(san.EnumerateDnsNames());
            }
        }

        return names;
    }

    /// <summary>True when <paramref name="certificate"/> chains to the CA and (when given) names <paramref name="expectedName"/>.</summary>
    public bool Verify(X509Certificate? certificate, string? expectedName)
    {
        if (certificate is null)
        {
            return false;
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (!chain.Build(leaf))
        {
            return false;
        }

        return expectedName is null || NamesOf(leaf).Contains(expectedName, StringComparer.Ordinal);
    }

    /// <summary>Client options for a connection to node <paramref name="expectedNode"/> (any node of the CA when null).</summary>
    public SslClientAuthenticationOptions ClientFor(string? expectedNode) => new()
    {
        TargetHost = expectedNode ?? "farm",
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        ClientCertificates = Certificate is null ? null : new X509CertificateCollection { Certificate },
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, certificate, _, _) => Verify(certificate, expectedNode),
    };

    public void Dispose()
    {
        Ca.Dispose();
        Certificate?.Dispose();
    }

    private static X509Certificate2 LoadCa(string caFile)
    {
        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(caFile);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"cannot load the TLS CA {caFile}: {ex.Message}", ex);
        }
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Farm.Daemon.Web;

/// <summary>
/// The certificate of the console port: the one <c>console_tls</c> names, else a self-signed one that the node makes
/// at its first start and keeps in its state folder (<c>console.pfx</c>, mode 0600), so browsers and scrapers see the
/// same certificate after a restart. A kept certificate that expires within <see cref="RenewBefore"/> is replaced.
/// </summary>
internal static class ConsoleCertificate
{
    /// <summary>The file name of the self-signed certificate in the state folder.</summary>
    public const string FileName = "console.pfx";

    /// <summary>How long a self-signed certificate is valid.</summary>
    public static readonly TimeSpan Validity = TimeSpan.FromDays(10 * 365);

    /// <summary>A kept certificate closer than this to its end is made anew.</summary>
    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    /// <summary>Loads (or makes) the console certificate of this node; throws with the file named on failure.</summary>
    public static X509Certificate2 Load(ConsoleOptions console, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (console.Tls is { } configured)
        {
            string certificateFile = configured.CertificateOf(console.NodeName);
            string keyFile = configured.PrivateKeyOf(console.NodeName);
            try
            {
                using var ephemeral = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);

                // A PKCS#12 round trip gives the key a form every platform's TLS stack accepts.
                return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                throw new InvalidOperationException($"cannot load the console certificate {certificateFile} with its key {keyFile}: {ex.Message}", ex);
            }
        }

        string path = Path.Combine(console.StateDirectory, FileName);
        var now = timeProvider.GetUtcNow();
        if (File.Exists(path))
        {
            try
            {
                var kept = X509CertificateLoader.LoadPkcs12FromFile(path, null);
                if (kept.NotAfter.ToUniversalTime() - now.UtcDateTime > RenewBefore)
                {
                    return kept;
                }

                kept.Dispose();
            }
            catch (CryptographicException)
            {
                // Unreadable (a crash while writing it): make a new one.
            }
        }

        return Create(console, now, path);
    }

    /// <summary>Makes a self-signed certificate for the node's name and addresses and writes it to <paramref name="path"/> (0600).</summary>
    internal static X509Certificate2 Create(ConsoleOptions console, DateTimeOffset now, string path)
    {
        ArgumentNullException.ThrowIfNull(console);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={console.NodeName}, O=Farm console, OU={console.ClusterName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(console.NodeName);
        names.AddDnsName("localhost");
        foreach (var address in console.Addresses.Append(IPAddress.Loopback).Distinct())
        {
            names.AddIpAddress(address);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false)); // server authentication
        using var made = request.CreateSelfSigned(now.AddMinutes(-5), now.Add(Validity));
        byte[] pfx = made.Export(X509ContentType.Pkcs12);

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // This process's own name: two farmd sharing a state folder (tests, benchmarks) never write the same file.
        string temporary = $"{path}.{Environment.ProcessId}.tmp";
        File.Delete(temporary); // a leftover keeps its mode: only a new file gets 0600
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(temporary, options))
        {
            file.Write(pfx);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        return X509CertificateLoader.LoadPkcs12(pfx, null);
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Farm.Daemon.Tests.Web;

[TestClass]
public sealed class ConsoleCertificateTests() : TempDirectoryTest("farmd-console-cert-")
{
    [TestMethod]
    public void Load_ConsoleTlsConfigured_UsesThisNodesFilesNotTheStateFolder()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var made = new CertificateRequest("CN=n1.example", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllText(Path.Combine(Dir, "n1.crt"), made.ExportCertificatePem());
        File.WriteAllText(Path.Combine(Dir, "n1.key"), key.ExportPkcs8PrivateKeyPem());
        var settings = Settings(new ConsoleTlsOptions { Certificate = Path.Combine(Dir, "{node}.crt"), PrivateKey = Path.Combine(Dir, "{node}.key") });

        using var loaded = ConsoleCertificate.Load(settings.BindConsole(), TimeProvider.System);

        Assert.AreEqual(made.Thumbprint, loaded.Thumbprint);
        Assert.IsTrue(loaded.HasPrivateKey);
        Assert.IsFalse(File.Exists(Path.Combine(settings.StateDirectory, ConsoleCertificate.FileName)));
    }

    [TestMethod]
    public void Load_ConfiguredFileMissing_ThrowsNamingTheFile()
    {
        var settings = Settings(new ConsoleTlsOptions { Certificate = Path.Combine(Dir, "{node}.crt"), PrivateKey = Path.Combine(Dir, "{node}.key") });

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => ConsoleCertificate.Load(settings.BindConsole(), TimeProvider.System));

        StringAssert.Contains(error.Message, Path.Combine(Dir, "n1.crt"));
    }

    [TestMethod]
    public void Load_SelfSigned_NamesTheNodeAndIsMadeAnewOnlyNearItsEnd()
    {
        var settings = Settings(null);
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

        using var first = ConsoleCertificate.Load(settings.BindConsole(), clock);
        clock.Advance(TimeSpan.FromDays(365));
        using var kept = ConsoleCertificate.Load(settings.BindConsole(), clock);
        clock.Advance(ConsoleCertificate.Validity - TimeSpan.FromDays(365) - ConsoleCertificate.RenewBefore + TimeSpan.FromDays(1));
        using var renewed = ConsoleCertificate.Load(settings.BindConsole(), clock);

        CollectionAssert.IsSubsetOf(new[] { "n1", "localhost" }, Farm.Protocol.Tls.ClusterTls.NamesOf(first).ToList());
        Assert.AreEqual(first.Thumbprint, kept.Thumbprint);
        Assert.AreNotEqual(first.Thumbprint, renewed.Thumbprint);
        Assert.IsTrue(renewed.HasPrivateKey);
    }

    private DaemonSettings Settings(ConsoleTlsOptions? consoleTls)
    {
        var node = new NodeConfig { Name = "n1", Addresses = [IPAddress.Parse("198.18.0.1")] };
        return new DaemonSettings
        {
            ClusterFile = Path.Combine(Dir, "cluster.yaml"),
            Cluster = new ClusterConfig { Name = "c", Key = "console-cert-test-key-0123456789", ConsoleTls = consoleTls, Nodes = [node] },
            Self = node,
            DataPlane = DataPlaneMode.Off,
            Incarnation = 1,
            StateDirectory = Path.Combine(Dir, "state"),
        };
    }
}

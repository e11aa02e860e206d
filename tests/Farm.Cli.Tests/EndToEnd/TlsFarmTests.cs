using Farm.Cli.Tls;

namespace Farm.Cli.Tests.EndToEnd;

/// <summary>
/// A farm with TLS: certificates from <c>farmctl tls init</c>, three real farmd form one view over mutual TLS, farmctl
/// asks a node over TLS; a node presenting a certificate of another node's name, or none of the CA, stays out.
/// </summary>
[TestClass]
public sealed class TlsFarmTests
{
    private const string Key = "farmctl-tls-cluster-key-0123456789";

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public async Task Tls_ThreeFarmd_OneViewFarmctlOverTlsImpostorRefused()
    {
        var ct = TestContext.CancellationToken;
        await using var farm = new LoopbackFarmd("farmctl-tls-");
        var (dir, port) = (farm.Directory, farm.Port);
        string certs = Path.Combine(dir, "tls");
        var plain = farm.Cluster("tls-test", Key);
        string plainFile = farm.WriteCluster(plain, "plain.yaml");
        var init = await TestCli.RunAsync(["tls", "init", "--cluster", plainFile, "--out", certs], cancellationToken: ct).WithTimeout();
        Assert.AreEqual(CliApp.ExitOk, init.ExitCode, init.Error);
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(certs, "n1.key")));

        var tls = new TlsOptions { CaFile = Path.Combine(certs, "ca.crt"), Certificate = Path.Combine(certs, "{node}.crt"), PrivateKey = Path.Combine(certs, "{node}.key") };
        string clusterFile = farm.WriteCluster(plain with { Tls = tls });

        // n3 runs with n2's certificate: a valid certificate of the CA, but not naming n3.
        string impostorDir = Path.Combine(dir, "impostor");
        Directory.CreateDirectory(impostorDir);
        File.Copy(Path.Combine(certs, "n2.crt"), Path.Combine(impostorDir, "n3.crt"));
        File.Copy(Path.Combine(certs, "n2.key"), Path.Combine(impostorDir, "n3.key"));
        string impostorFile = FarmConfigFiles.WriteCluster(
            plain with { Tls = tls with { Certificate = Path.Combine(impostorDir, "{node}.crt"), PrivateKey = Path.Combine(impostorDir, "{node}.key") } },
            Path.Combine(dir, "impostor.yaml"));

        try
        {
            foreach (var (name, file) in new[] { ("n1", clusterFile), ("n2", clusterFile), ("n3", impostorFile) })
            {
                farm.Start(name, file);
            }

            foreach (var p in farm.Processes)
            {
                await p.WaitForReadyAsync(TimeSpan.FromSeconds(20), ct);
            }

            using var admin1 = farm.Processes[0].CreateAdminClient();
            var status = await Poll.UntilAsync(() => admin1.GetStatusAsync(ct),
                s => s.Nodes.Count(n => n.InView) == 2 && s.Rejected.Any(r => r.Reason == "tls_identity"), "n1 and n2 form a view over TLS; n3's certificate is refused", Poll.DefaultTimeout, ct);
            Assert.IsFalse(status.Nodes.Single(n => n.Name == "n3").InView);
            Assert.AreEqual("n3", status.Rejected.First(r => r.Reason == "tls_identity").LastClaimedSender);

            // farmctl over TLS, the CA taken from the cluster file.
            var remote = await TestCli.RunAsync(["status", "--json", "--host", $"127.0.0.2:{port}", "--cluster", clusterFile], cancellationToken: ct).WithTimeout();
            Assert.AreEqual(CliApp.ExitOk, remote.ExitCode, remote.Error);
            using (var doc = JsonDocument.Parse(remote.Output))
            {
                Assert.AreEqual("n2", doc.RootElement.GetProperty("node").GetString());
            }

            // Without the CA farmctl speaks h2c to a TLS port: a clear failure, not a hang.
            string keyFile = Path.Combine(dir, "key");
            await File.WriteAllTextAsync(keyFile, Key, ct);
            var noTls = await TestCli.RunAsync(["status", "--host", $"127.0.0.2:{port}", "--key-file", keyFile, "--timeout", "3s"], cancellationToken: ct).WithTimeout();
            Assert.AreEqual(CliApp.ExitFailed, noTls.ExitCode, noTls.Output);
        }
        catch
        {
            farm.WriteOutputs(TestContext.WriteLine);
            throw;
        }
    }
}

namespace Farm.Core.Tests.Config;

[TestClass]
public sealed class ModuleConfigHashTests
{
    private const string Base = """
        module:
          name: web
          vips: [198.18.100.1, 198.18.100.2]
          interface: eth0
          seed: 7
          rules:
            - { protocol: tcp, ports: 80 }
            - { protocol: udp, ports: 5000-5010, affinity: client_ip_port }
        """;

    private static ModuleConfig Module(string yaml) => ConfigAssert.ValidModule(yaml);

    [TestMethod]
    public void ComputeHash_PerNodeSettingsAndListOrder_DoNotChangeIt()
    {
        // Another NIC name, vmac mode, timeouts and checkers, VIPs and rules listed in another order: the same farm.
        const string other = """
            module:
              name: web
              vips: [198.18.100.2, 198.18.100.1]
              interface: ens3
              vmac_mode: promiscuous
              seed: 7
              timeouts: { start: 1m }
              rules:
                - { protocol: udp, ports: 5000-5010, affinity: client_ip_port }
                - { protocol: tcp, ports: 80 }
              checkers:
                - { name: web, type: tcp, address: 127.0.0.1, port: 80 }
            """;

        Assert.AreEqual(Module(Base).ComputeHash(), Module(other).ComputeHash());
    }

    [TestMethod]
    [DataRow("seed: 7", "seed: 8", "seed")]
    [DataRow("seed: 7", "seed: 7\n  buckets: 512", "buckets")]
    [DataRow("seed: 7", "seed: 7\n  mode: single", "mode")]
    [DataRow("198.18.100.2]", "198.18.100.3]", "vips")]
    [DataRow("ports: 80 }", "ports: 8080 }", "rules")]
    [DataRow("affinity: client_ip_port", "affinity: client_ip", "rules")]
    public void DifferingSettings_OneSettingChanged_NamesItAndTheHashDiffers(string from, string to, string setting)
    {
        var a = Module(Base);
        var b = Module(Base.Replace(from, to, StringComparison.Ordinal));

        Assert.AreNotEqual(a.ComputeHash(), b.ComputeHash());
        CollectionAssert.AreEqual(new[] { setting }, ModuleConfigHasher.DifferingSettings(ModuleConfigHasher.Lines(a), ModuleConfigHasher.Lines(b)).ToArray());
    }

    [TestMethod]
    public void Hash_Lines_IsTheModuleHash()
    {
        var module = Module(Base);

        Assert.AreEqual(module.ComputeHash(), ModuleConfigHasher.Hash(ModuleConfigHasher.Lines(module)));
        Assert.AreEqual(0, ModuleConfigHasher.DifferingSettings(ModuleConfigHasher.Lines(module), ModuleConfigHasher.Lines(module)).Count);
    }
}

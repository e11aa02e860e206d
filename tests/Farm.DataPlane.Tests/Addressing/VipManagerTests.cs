namespace Farm.DataPlane.Tests.Addressing;

[TestClass]
public sealed class VipManagerTests
{
    private const string ArpIgnore = "net/ipv4/conf/eth0/arp_ignore";
    private const string ArpAnnounce = "net/ipv4/conf/eth0/arp_announce";

    private readonly FakeSysctl sysctl = new();
    private readonly FakeLinkConfigurator links = new();
    private string stateDirectory = null!;

    [TestInitialize]
    public void Initialize()
    {
        stateDirectory = Directory.CreateTempSubdirectory("farm-vip-").FullName;
        sysctl.Values[ArpIgnore] = "0";
        sysctl.Values[ArpAnnounce] = "0";
    }

    [TestCleanup]
    public void Cleanup() => Directory.Delete(stateDirectory, recursive: true);

    [TestMethod]
    public void Start_UnicastFilterMode_SetsArpSysctlsAddsVipsToLoAndVmacsToTheFilter()
    {
        var manager = NewManager();

        manager.Start(Modules.Web());

        Assert.AreEqual("1", sysctl.Values[ArpIgnore]);
        Assert.AreEqual("2", sysctl.Values[ArpAnnounce]);
        Assert.Contains(("lo", Modules.Vip4, 32), links.Addresses);
        Assert.Contains(("lo", Modules.Vip6, 128), links.Addresses);
        Assert.Contains(("eth0", VirtualMac.For(Modules.Vip4)), links.Unicast);
        Assert.HasCount(2, links.Unicast);
        Assert.IsEmpty(links.Promiscuous);
        Assert.IsTrue(manager.IsStarted);
    }

    [TestMethod]
    public void Stop_AfterStart_RestoresEverythingAndDeletesTheStateFile()
    {
        sysctl.Values[ArpAnnounce] = "1";
        var manager = NewManager();
        manager.Start(Modules.Web());

        manager.Stop();

        AssertRestored(arpAnnounce: "1");
        Assert.IsEmpty(Directory.GetFiles(stateDirectory));
        Assert.IsFalse(manager.IsStarted);
    }

    [TestMethod]
    public void Start_PromiscuousMode_SwitchesPromiscOnAndStopSwitchesItOff()
    {
        var manager = NewManager();

        manager.Start(Modules.Web(vmacMode: VmacMode.Promiscuous));
        Assert.Contains("eth0", links.Promiscuous);
        Assert.IsEmpty(links.Unicast);

        manager.Stop();
        Assert.IsEmpty(links.Promiscuous);
    }

    [TestMethod]
    public void Stop_InterfaceWasPromiscuousBefore_LeavesItPromiscuous()
    {
        links.Promiscuous.Add("eth0");
        var manager = NewManager();

        manager.Start(Modules.Web(vmacMode: VmacMode.Promiscuous));
        manager.Stop();

        Assert.Contains("eth0", links.Promiscuous);
    }

    [TestMethod]
    public void Stop_VipAddressExistedBefore_KeepsIt()
    {
        links.Addresses.Add(("lo", Modules.Vip4, 32));
        var manager = NewManager();

        manager.Start(Modules.Web());
        manager.Stop();

        CollectionAssert.AreEquivalent(new[] { ("lo", Modules.Vip4, 32) }, links.Addresses.ToArray());
    }

    [TestMethod]
    public void Start_AfterCrashedRun_UndoesLeftoversBeforeBinding()
    {
        NewManager().Start(Modules.Web()); // the "crashed" run: never stopped
        var restarted = NewManager();

        restarted.Start(Modules.Web());
        restarted.Stop();

        // The second run recorded the original values (0), not the crashed run's (1, 2).
        AssertRestored(arpAnnounce: "0");
    }

    [TestMethod]
    public void RecoverLeftovers_NoStateFile_ReturnsFalse()
    {
        Assert.IsFalse(NewManager().RecoverLeftovers("web"));
    }

    [TestMethod]
    public void Start_FailsHalfway_UndoesWhatItDidAndRethrows()
    {
        links.FailUnicast = true;
        var manager = NewManager();

        Assert.ThrowsExactly<IOException>(() => manager.Start(Modules.Web()));

        Assert.AreEqual("0", sysctl.Values[ArpIgnore]);
        Assert.IsEmpty(links.Addresses);
        Assert.IsFalse(manager.IsStarted);
        Assert.IsEmpty(Directory.GetFiles(stateDirectory));
    }

    [TestMethod]
    public void Start_Twice_Throws()
    {
        var manager = NewManager();
        manager.Start(Modules.Web());

        Assert.ThrowsExactly<InvalidOperationException>(() => manager.Start(Modules.Web()));
    }

    private VipManager NewManager() => new(sysctl, links, stateDirectory, NullLogger.Instance);

    // The interface as before the start: arp_ignore back at 0, arp_announce at what it was, no VIP address, no VMAC.
    private void AssertRestored(string arpAnnounce)
    {
        Assert.AreEqual("0", sysctl.Values[ArpIgnore]);
        Assert.AreEqual(arpAnnounce, sysctl.Values[ArpAnnounce]);
        Assert.IsEmpty(links.Addresses);
        Assert.IsEmpty(links.Unicast);
    }
}

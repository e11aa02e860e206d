namespace Farm.DataPlane.Tests.Addressing;

[TestClass]
public sealed class VipStateStoreTests() : TempDirectoryTest("farm-vipstate-")
{
    [TestMethod]
    public void Save_NewFolder_CreatesIt0700AndTheFile0600AndLoadReadsItBack()
    {
        string state = Path.Combine(Dir, "state");
        var store = new VipStateStore(state);

        store.Save(new VipState { Module = "web", Interface = "eth0", LoopbackAddresses = ["198.18.100.1/32"] });

        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(state));
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(state, "vip-web.json")));
        CollectionAssert.AreEqual(new[] { "198.18.100.1/32" }, store.Load("web")!.LoopbackAddresses);
        CollectionAssert.AreEqual(new[] { Path.Combine(state, "vip-web.json") }, Directory.GetFiles(state), "no temporary file left");
    }

    [TestMethod]
    public void SaveAndLoad_SymbolicLinksPlanted_AreNeitherFollowedNorRead()
    {
        string victim = Path.Combine(Dir, "victim");
        File.WriteAllText(victim, "keep me");
        string state = Path.Combine(Dir, "state");
        Directory.CreateDirectory(state);
        File.CreateSymbolicLink(Path.Combine(state, "vip-web.json.tmp"), victim);
        File.CreateSymbolicLink(Path.Combine(state, "vip-db.json"), victim);
        var store = new VipStateStore(state);

        store.Save(new VipState { Module = "web", Interface = "eth0" });

        Assert.AreEqual("keep me", File.ReadAllText(victim));
        StringAssert.Contains(Assert.ThrowsExactly<IOException>(() => store.Load("db")).Message, "is a symbolic link");
    }

    [TestMethod]
    public void Save_FolderWritableByOthers_IsRefused()
    {
        string state = Path.Combine(Dir, "state");
        Directory.CreateDirectory(state);
        File.SetUnixFileMode(state, (UnixFileMode)0x1ff);

        var error = Assert.ThrowsExactly<IOException>(() => new VipStateStore(state).Save(new VipState { Module = "web", Interface = "eth0" }));

        StringAssert.Contains(error.Message, "is writable by group and others (mode 0777)");
    }
}

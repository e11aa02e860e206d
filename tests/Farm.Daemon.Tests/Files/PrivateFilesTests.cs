using Farm.Core.Security;

namespace Farm.Daemon.Tests.Files;

/// <summary>The native helpers farmd keeps its own files with (native/Farm.Native/Linux): statx, 0600 atomic writes, no links followed.</summary>
[TestClass]
public sealed class PrivateFilesTests() : TempDirectoryTest("farmd-private-")
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [TestMethod]
    public void WriteAtomic_NewFile_IsMode0600AndLeavesNoTemporary()
    {
        string path = Path.Combine(Dir, "state.json");

        PrivateFiles.WriteAtomic(path, "{}"u8);

        Assert.AreEqual(OwnerOnly, File.GetUnixFileMode(path));
        Assert.AreEqual("{}", File.ReadAllText(path));
        CollectionAssert.AreEqual(new[] { path }, Directory.GetFiles(Dir));
    }

    [TestMethod]
    public void WriteAtomic_SymbolicLinkAtTheTarget_ReplacesTheLinkNotItsTarget()
    {
        string victim = Victim("keep me");
        string path = LinkTo(victim, "state.json");

        PrivateFiles.WriteAtomic(path, "new"u8);

        Assert.AreEqual("keep me", File.ReadAllText(victim));
        Assert.IsNull(new FileInfo(path).LinkTarget, "the link itself was replaced by a regular file");
        Assert.AreEqual("new", File.ReadAllText(path));
    }

    [TestMethod]
    public void WriteAtomic_LinksPlantedAtTheOldFixedTemporaryName_AreNotFollowed()
    {
        string victim = Victim("keep me");
        LinkTo(victim, "state.json.tmp");

        PrivateFiles.WriteAtomic(Path.Combine(Dir, "state.json"), "new"u8);

        Assert.AreEqual("keep me", File.ReadAllText(victim));
    }

    [TestMethod]
    public void ReadNoFollow_SymbolicLinkOrMissing_RefusesOrReturnsNull()
    {
        string victim = Victim("secret");
        string link = LinkTo(victim, "link");

        var ex = Assert.ThrowsExactly<IOException>(() => PrivateFiles.ReadNoFollow(link, 100, StatxFileInspector.Instance));
        StringAssert.Contains(ex.Message, "is a symbolic link");
        Assert.IsNull(PrivateFiles.ReadNoFollow(Path.Combine(Dir, "missing"), 100, StatxFileInspector.Instance));
        Assert.ThrowsExactly<IOException>(() => PrivateFiles.ReadNoFollow(victim, 3, StatxFileInspector.Instance), "larger than the bound");
        CollectionAssert.AreEqual("secret"u8.ToArray(), PrivateFiles.ReadNoFollow(victim, 100, StatxFileInspector.Instance));
    }

    [TestMethod]
    public void EnsurePrivateDirectory_Missing_CreatesIt0700AndRefusesAWorldWritableOne()
    {
        string state = Path.Combine(Dir, "state");

        Assert.IsNull(PrivateFiles.EnsurePrivateDirectory(state, StatxFileInspector.Instance));
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(state));

        File.SetUnixFileMode(state, (UnixFileMode)0x3ff); // 1777, like /tmp
        StringAssert.Contains(PrivateFiles.EnsurePrivateDirectory(state, StatxFileInspector.Instance), "is writable by group and others (mode 1777)");
    }

    [TestMethod]
    public void StatxFileInspector_RealFiles_ReportsOwnerModeAndKind()
    {
        var inspector = StatxFileInspector.Instance;
        string file = Path.Combine(Dir, "f");
        File.WriteAllText(file, "x");
        File.SetUnixFileMode(file, OwnerOnly | UnixFileMode.GroupRead);
        string link = Path.Combine(Dir, "l");
        File.CreateSymbolicLink(link, file);

        var facts = inspector.Inspect(file)!.Value;

        Assert.AreEqual((inspector.EffectiveUid, OwnerOnly | UnixFileMode.GroupRead, FileKind.Regular), (facts.OwnerUid, facts.Mode, facts.Kind));
        Assert.AreEqual(FileKind.Regular, inspector.Inspect(link)!.Value.Kind, "links followed by default");
        Assert.AreEqual(FileKind.SymbolicLink, inspector.Inspect(link, followLinks: false)!.Value.Kind);
        Assert.AreEqual(FileKind.Directory, inspector.Inspect(Dir)!.Value.Kind);
        Assert.AreEqual(FileKind.Other, inspector.Inspect("/dev/null")!.Value.Kind);
        Assert.IsNull(inspector.Inspect(Path.Combine(Dir, "missing")));
        Assert.IsNull(inspector.Inspect(Path.Combine(file, "below-a-file")));
    }

    [TestMethod]
    public void KeyFileReader_DeviceOrHugeFile_IsRefusedWithoutReadingItAll()
    {
        var reader = KeyFileReader.For(Path.Combine(Dir, "cluster.yaml"), StatxFileInspector.Instance);
        string huge = Path.Combine(Dir, "huge.key");
        using (var stream = File.Create(huge))
        {
            stream.SetLength(1L << 30);
        }

        Assert.AreEqual("not a regular file", Assert.ThrowsExactly<IOException>(() => reader.Read("/dev/zero")).Message);
        Assert.AreEqual("larger than 65536 bytes", Assert.ThrowsExactly<IOException>(() => reader.Read("huge.key")).Message);
        Assert.ThrowsExactly<FileNotFoundException>(() => reader.Read("missing.key"));
        Assert.AreEqual(huge, reader.Resolve("huge.key"));
        Assert.AreEqual("/etc/farm/cluster.key", reader.Resolve("/etc/farm/cluster.key"));
    }

    /// <summary>A file "victim" holding <paramref name="text"/>, in this test's folder.</summary>
    private string Victim(string text)
    {
        string victim = Path.Combine(Dir, "victim");
        File.WriteAllText(victim, text);
        return victim;
    }

    /// <summary>A symbolic link <paramref name="name"/> to <paramref name="target"/>, in this test's folder.</summary>
    private string LinkTo(string target, string name)
    {
        string link = Path.Combine(Dir, name);
        File.CreateSymbolicLink(link, target);
        return link;
    }
}

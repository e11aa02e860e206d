namespace Farm.Daemon.Tests.Reload;

[TestClass]
public sealed class ClusterFileWriterTests() : TempDirectoryTest("farmd-writer-")
{
    [TestMethod]
    public void Replace_ExistingFileReadableByGroup_NewTextMode0600NoTemporaryLeft()
    {
        string path = Path.Combine(Dir, "cluster.yaml");
        File.WriteAllText(path, "old");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        Assert.AreEqual(path, ClusterFileWriter.Replace(path, "new ✓"));

        Assert.AreEqual("new ✓", File.ReadAllText(path));
        CollectionAssert.AreEqual("new ✓"u8.ToArray(), File.ReadAllBytes(path), "UTF-8 without a byte order mark");
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path), "the file may hold the cluster key: 0600 whatever it was");
        CollectionAssert.AreEqual(new[] { path }, Directory.GetFiles(Dir));
    }

    [TestMethod]
    public void Replace_SymbolicLink_ReplacesTheTargetAndKeepsTheLink()
    {
        string target = Path.Combine(Dir, "real.yaml");
        string link = Path.Combine(Dir, "cluster.yaml");
        File.WriteAllText(target, "old");
        File.CreateSymbolicLink(link, target);

        Assert.AreEqual(target, ClusterFileWriter.Replace(link, "new"));

        Assert.AreEqual(target, new FileInfo(link).LinkTarget);
        Assert.AreEqual("new", File.ReadAllText(target));
    }

    [TestMethod]
    public void Replace_TargetIsADirectory_ThrowsAndLeavesNoTemporaryFile()
    {
        string folder = Path.Combine(Dir, "cluster.yaml");
        Directory.CreateDirectory(folder);

        Assert.ThrowsExactly<IOException>(() => ClusterFileWriter.Replace(folder, "new"));

        Assert.IsEmpty(Directory.GetFiles(Dir));
    }
}

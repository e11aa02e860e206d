using Farm.Daemon.Reload;

namespace Farm.Daemon.Tests.Reload;

[TestClass]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ClusterFileWriterTests
{
    private string dir = null!;

    [TestInitialize]
    public void Setup() => dir = Directory.CreateTempSubdirectory("farmd-writer-").FullName;

    [TestCleanup]
    public void Cleanup() => Directory.Delete(dir, recursive: true);

    [TestMethod]
    public void Replace_ExistingFileReadableByGroup_NewTextMode0600NoTemporaryLeft()
    {
        string path = Path.Combine(dir, "cluster.yaml");
        File.WriteAllText(path, "old");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        Assert.AreEqual(path, ClusterFileWriter.Replace(path, "new ✓"));

        Assert.AreEqual("new ✓", File.ReadAllText(path));
        CollectionAssert.AreEqual("new ✓"u8.ToArray(), File.ReadAllBytes(path), "UTF-8 without a byte order mark");
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path), "the file may hold the cluster key: 0600 whatever it was");
        CollectionAssert.AreEqual(new[] { path }, Directory.GetFiles(dir));
    }

    [TestMethod]
    public void Replace_SymbolicLink_ReplacesTheTargetAndKeepsTheLink()
    {
        string target = Path.Combine(dir, "real.yaml");
        string link = Path.Combine(dir, "cluster.yaml");
        File.WriteAllText(target, "old");
        File.CreateSymbolicLink(link, target);

        Assert.AreEqual(target, ClusterFileWriter.Replace(link, "new"));

        Assert.AreEqual(target, new FileInfo(link).LinkTarget);
        Assert.AreEqual("new", File.ReadAllText(target));
    }

    [TestMethod]
    public void Replace_TargetIsADirectory_ThrowsAndLeavesNoTemporaryFile()
    {
        string folder = Path.Combine(dir, "cluster.yaml");
        Directory.CreateDirectory(folder);

        Assert.ThrowsExactly<IOException>(() => ClusterFileWriter.Replace(folder, "new"));

        Assert.IsEmpty(Directory.GetFiles(dir));
    }
}

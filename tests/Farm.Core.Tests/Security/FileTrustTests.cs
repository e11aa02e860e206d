using Farm.Core.Security;

namespace Farm.Core.Tests.Security;

[TestClass]
public sealed class FileTrustTests
{
    private const UnixFileMode Rw = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Rwx = Rw | UnixFileMode.UserExecute;

    [TestMethod]
    public void SecretFileProblem_RootOwned0600_IsNull() =>
        Assert.IsNull(FileTrust.SecretFileProblem(File("/etc/farm/cluster.key", Rw), selfUid: 0));

    [TestMethod]
    public void SecretFileProblem_OwnedByTheUserFarmdRunsAs_IsNull() =>
        Assert.IsNull(FileTrust.SecretFileProblem(File("k", Rw, uid: 1000), selfUid: 1000));

    [TestMethod]
    [DataRow(UnixFileMode.GroupRead, "is readable by group or others (mode 0640): run 'chmod 600 k'")]
    [DataRow(UnixFileMode.OtherRead, "is readable by group or others (mode 0604): run 'chmod 600 k'")]
    [DataRow(UnixFileMode.GroupWrite, "gives group or others access (mode 0620): run 'chmod 600 k'")]
    public void SecretFileProblem_GroupOrOtherBits_SaysWhichAndHowToFix(UnixFileMode extra, string expected)
    {
        Assert.AreEqual("k " + expected, FileTrust.SecretFileProblem(File("k", Rw | extra), selfUid: 0));
    }

    [TestMethod]
    public void SecretFileProblem_OwnedBySomeoneElse_SaysChown()
    {
        Assert.AreEqual("k is owned by uid 1000, not by root: run 'chown root: k'", FileTrust.SecretFileProblem(File("k", Rw, uid: 1000), selfUid: 0));
    }

    [TestMethod]
    public void SecretFileProblem_NotARegularFile_IsRefused()
    {
        Assert.AreEqual("/dev/zero is not a regular file", FileTrust.SecretFileProblem(File("/dev/zero", Rw, kind: FileKind.Other), selfUid: 0));
    }

    [TestMethod]
    [DataRow(UnixFileMode.GroupWrite, "its group")]
    [DataRow(UnixFileMode.OtherWrite, "others")]
    [DataRow(UnixFileMode.GroupWrite | UnixFileMode.OtherWrite, "group and others")]
    public void TrustedFileProblem_WritableByOthers_NamesWho(UnixFileMode extra, string who)
    {
        string? problem = FileTrust.TrustedFileProblem(File("bin/start_both", Rwx | extra), selfUid: 0);

        StringAssert.StartsWith(problem, $"bin/start_both is writable by {who} (mode 0");
        StringAssert.EndsWith(problem, "run 'chmod go-w bin/start_both'");
    }

    [TestMethod]
    public void TrustedFileProblem_ReadableAndExecutableByAll_IsNull() =>
        Assert.IsNull(FileTrust.TrustedFileProblem(File("bin/start_both", Rwx | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute), selfUid: 0));

    [TestMethod]
    public void TrustedFileProblem_SymbolicLinkModeBits_AreIgnored() =>
        Assert.IsNull(FileTrust.TrustedFileProblem(File("l", (UnixFileMode)0x1ff, kind: FileKind.SymbolicLink), selfUid: 0));

    [TestMethod]
    public void PrivateDirectoryProblem_WorldWritableStickyDirectory_IsRefused()
    {
        var tmp = File("/tmp", (UnixFileMode)0x3ff, kind: FileKind.Directory); // 01777

        StringAssert.Contains(FileTrust.PrivateDirectoryProblem(tmp, selfUid: 0), "/tmp is writable by group and others (mode 1777)");
        Assert.AreEqual("/run/farm/x is not a directory", FileTrust.PrivateDirectoryProblem(File("/run/farm/x", Rw), selfUid: 0));
        Assert.IsNull(FileTrust.PrivateDirectoryProblem(File("/run/farm", Rwx, kind: FileKind.Directory), selfUid: 0));
    }

    private static FileFacts File(string path, UnixFileMode mode, uint uid = 0, FileKind kind = FileKind.Regular) => new(path, uid, 0, mode, kind);
}

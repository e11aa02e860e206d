namespace Farm.Daemon.Tests.Hosting;

[TestClass]
public sealed class JournalStreamTests
{
    [TestMethod]
    [DataRow("8:41213", "socket:[41213]", true)]
    [DataRow("8:41213", "socket:[41214]", false)]
    [DataRow("8:41213", "pipe:[41213]", false)]
    [DataRow("8:41213", "/dev/pts/0", false)]
    [DataRow("41213", "socket:[41213]", false)]
    [DataRow("8:x", "socket:[41213]", false)]
    [DataRow("", "socket:[41213]", false)]
    [DataRow(null, "socket:[41213]", false)]
    [DataRow("8:41213", null, false)]
    public void Matches_JournalStreamAndLinkTarget_OnlyTheSameSocket(string? journalStream, string? linkTarget, bool expected)
    {
        Assert.AreEqual(expected, JournalStream.Matches(journalStream, linkTarget));
    }
}

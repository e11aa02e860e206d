namespace Farm.Daemon.Tests.Reload;

[TestClass]
public sealed class ReloadSignalTests
{
    [TestMethod]
    [DataRow("Name:\tfarmd\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000001\nSigCgt:\t0000000180004a02\n", true, DisplayName = "nohup: bit 0")]
    [DataRow("Name:\tfarmd\nSigIgn:\t0000000000001000\nSigCgt:\t0000000180004a03\n", false, DisplayName = "SIGPIPE only")]
    [DataRow("Name:\tfarmd\n", false, DisplayName = "no SigIgn line")]
    [DataRow(null, false, DisplayName = "unreadable")]
    public void IsIgnored_ProcStatusSigIgnMask_ReadsSighupsBit(string? status, bool ignored) =>
        Assert.AreEqual(ignored, ReloadSignal.IsIgnored(status, ReloadSignal.SigHup));
}

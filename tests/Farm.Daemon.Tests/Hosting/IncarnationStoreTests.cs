namespace Farm.Daemon.Tests.Hosting;

[TestClass]
public sealed class IncarnationStoreTests() : TempDirectoryTest("farmd-incarnation-")
{
    [TestMethod]
    [DataRow(1000L, null, 1000L)]
    [DataRow(1000L, 999L, 1000L)]
    [DataRow(1000L, 1000L, 1001L)]
    [DataRow(1000L, 5000L, 5001L)]
    [DataRow(1000L, long.MaxValue, long.MaxValue)]
    public void Next_ClockAndLast_IsTheLargerOfTheClockAndOneMoreThanLast(long clock, long? last, long expected) =>
        Assert.AreEqual(expected, IncarnationStore.Next(clock, last));

    [TestMethod]
    public void Allocate_GarbageInTheFile_StartsFromTheClockWithAWarning()
    {
        File.WriteAllText(Path.Combine(Dir, "incarnation-n1"), "not a number");

        long next = IncarnationStore.Allocate(Dir, "n1", 42, StatxFileInspector.Instance, out string? warning);

        Assert.AreEqual(42, next);
        StringAssert.Contains(warning, "does not hold a number");
        Assert.AreEqual("42", File.ReadAllText(Path.Combine(Dir, "incarnation-n1")).Trim());
    }

    [TestMethod]
    public void Allocate_SymbolicLinkPlantedAtTheFile_IsNeitherReadNorWrittenThrough()
    {
        string victim = Path.Combine(Dir, "victim");
        File.WriteAllText(victim, "99999999999999");
        File.CreateSymbolicLink(Path.Combine(Dir, "incarnation-n1"), victim);

        long next = IncarnationStore.Allocate(Dir, "n1", 42, StatxFileInspector.Instance, out string? warning);

        Assert.AreEqual(42, next, "the link's target is not taken for the last incarnation");
        StringAssert.Contains(warning, "is a symbolic link");
        Assert.AreEqual("99999999999999", File.ReadAllText(victim));
    }

    [TestMethod]
    public void Allocate_StateFolderWritableByOthers_UsesTheClockWithAWarning()
    {
        File.SetUnixFileMode(Dir, (UnixFileMode)0x1ff);

        long next = IncarnationStore.Allocate(Dir, "n1", 42, StatxFileInspector.Instance, out string? warning);

        Assert.AreEqual(42, next);
        StringAssert.Contains(warning, "is writable by group and others (mode 0777)");
        Assert.IsFalse(File.Exists(Path.Combine(Dir, "incarnation-n1")));
    }
}

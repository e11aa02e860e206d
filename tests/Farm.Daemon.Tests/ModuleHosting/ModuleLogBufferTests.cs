namespace Farm.Daemon.Tests.ModuleHosting;

[TestClass]
public sealed class ModuleLogBufferTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [TestMethod]
    public void Tail_MoreLinesThanCapacity_KeepsTheNewestInOrder()
    {
        var buffer = new ModuleLogBuffer("web", capacity: 3);
        for (int i = 1; i <= 5; i++)
        {
            buffer.Append(T0, LogLevel.Information, $"line {i}");
        }

        CollectionAssert.AreEqual(new[] { "line 3", "line 4", "line 5" }, buffer.Tail(10).Select(l => l.Text).ToArray());
        CollectionAssert.AreEqual(new[] { "line 5" }, buffer.Tail(1).Select(l => l.Text).ToArray());
        Assert.AreEqual(5, buffer.LastSeq);
    }

    [TestMethod]
    public void Append_TerminalEscapesAndHugeText_KeepsThemPrintableAndCut()
    {
        var written = new List<ModuleLogLine>();
        var buffer = new ModuleLogBuffer("web", sink: written.Add);

        buffer.Append(T0, LogLevel.Warning, "web/start_both: \u001b]0;owned\u0007\u001b[2Jok");
        buffer.Append(T0, LogLevel.Error, "boom: " + new string('x', 100_000));

        var lines = buffer.Tail(2);
        Assert.AreEqual("web/start_both: \\x1b]0;owned\\x07\\x1b[2Jok", lines[0].Text);
        Assert.AreEqual(ModuleLogBuffer.MaxLineLength, lines[1].Text.Length);
        StringAssert.EndsWith(lines[1].Text, "...");
        CollectionAssert.AreEqual(lines.Select(l => l.Text).ToArray(), written.Select(l => l.Text).ToArray(), "the module's log file gets the same printable text");
    }

    [TestMethod]
    public void Since_ReaderFellBehind_ReportsTheLostLines()
    {
        var buffer = new ModuleLogBuffer("web", capacity: 3);
        for (int i = 1; i <= 6; i++)
        {
            buffer.Append(T0, LogLevel.Information, $"line {i}");
        }

        var (lines, dropped) = buffer.Since(afterSeq: 1, max: 10);
        Assert.AreEqual(2, dropped, "lines 2 and 3 are gone");
        CollectionAssert.AreEqual(new long[] { 4, 5, 6 }, lines.Select(l => l.Seq).ToArray());
    }

    [TestMethod]
    public async Task WaitAsync_NoNewerLine_CompletesOnTheNextAppend()
    {
        var buffer = new ModuleLogBuffer("web");
        buffer.Append(T0, LogLevel.Information, "first");
        var wait = buffer.WaitAsync(afterSeq: 1, CancellationToken.None);
        Assert.IsFalse(wait.IsCompleted);
        buffer.Append(T0, LogLevel.Warning, "second");
        await wait.WithTimeout();
        Assert.IsTrue(buffer.WaitAsync(afterSeq: 1, CancellationToken.None).IsCompleted);
    }

    [TestMethod]
    public void ModuleLoggerFactory_InformationAndUp_ReachTheBufferAndTheSink()
    {
        var sunk = new List<string>();
        var buffer = new ModuleLogBuffer("web", sink: line => sunk.Add(line.Text));
        using var factory = new ModuleLoggerFactory(NullLoggerFactory.Instance, buffer, TimeProvider.System);
        var logger = factory.CreateLogger("Farm.Modules.ModuleManager");

        logger.Log(LogLevel.Debug, default, "not kept", null, (s, _) => s);
        logger.Log(LogLevel.Information, default, "Module web is UP/Ready", null, (s, _) => s);
        logger.Log(LogLevel.Error, default, "failed", new InvalidOperationException("boom"), (s, _) => s);

        CollectionAssert.AreEqual(new[] { "Module web is UP/Ready", "failed: boom" }, buffer.Tail(10).Select(l => l.Text).ToArray());
        CollectionAssert.AreEqual(new[] { "Module web is UP/Ready", "failed: boom" }, sunk);
    }
}

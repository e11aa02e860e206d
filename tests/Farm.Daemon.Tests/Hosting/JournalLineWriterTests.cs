using Serilog.Events;
using Serilog.Parsing;

namespace Farm.Daemon.Tests.Hosting;

[TestClass]
public sealed class JournalLineWriterTests
{
    [TestMethod]
    public void Write_MultiLineTextInPieces_EveryLinePrefixedOnce()
    {
        using var inner = new StringWriter { NewLine = "\n" };
        using var writer = new JournalLineWriter(inner, 3) { NewLine = "\n" };

        writer.Write("farmd: cannot start");
        writer.Write(": address in use\nsecond");
        writer.WriteLine(" line");
        writer.Write('x');
        writer.Write("\n\n");

        Assert.AreEqual("<3>farmd: cannot start: address in use\n<3>second line\n<3>x\n\n", inner.ToString());
    }

    [TestMethod]
    [DataRow(LogEventLevel.Fatal, 2)]
    [DataRow(LogEventLevel.Error, 3)]
    [DataRow(LogEventLevel.Warning, 4)]
    [DataRow(LogEventLevel.Information, 6)]
    [DataRow(LogEventLevel.Debug, 7)]
    [DataRow(LogEventLevel.Verbose, 7)]
    public void PriorityOf_Level_SyslogPriority(LogEventLevel level, int priority)
    {
        Assert.AreEqual(priority, JournalFormatter.PriorityOf(level));
    }

    [TestMethod]
    public void Format_ErrorWithException_EveryLineHasTheErrorPriorityAndNoTimestamp()
    {
        Exception thrown;
        try
        {
            throw new InvalidOperationException("boom");
        }
        catch (InvalidOperationException ex)
        {
            thrown = ex;
        }

        var template = new MessageTemplateParser().Parse("Tick failed on {Node}");
        var logEvent = new LogEvent(
            DateTimeOffset.UnixEpoch, LogEventLevel.Error, thrown, template,
            [new LogEventProperty("Node", new ScalarValue("n1")), new LogEventProperty("SourceContext", new ScalarValue("Farm.Daemon.X"))]);
        using var output = new StringWriter();

        new JournalFormatter().Format(logEvent, output);

        string[] lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual("<3>Farm.Daemon.X: Tick failed on n1", lines[0]);
        Assert.IsTrue(lines.Length >= 3, output.ToString());
        Assert.IsTrue(lines.All(l => l.StartsWith("<3>", StringComparison.Ordinal)), output.ToString());
        StringAssert.Contains(lines[1], "System.InvalidOperationException: boom");
        Assert.IsFalse(output.ToString().Contains("1970", StringComparison.Ordinal), "journald adds the time");
    }
}

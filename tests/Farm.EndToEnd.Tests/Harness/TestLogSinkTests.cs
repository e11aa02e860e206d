using Microsoft.Extensions.Logging;

namespace Farm.EndToEnd.Tests.Harness;

[TestClass]
public sealed class TestLogSinkTests
{
    [TestMethod]
    public void AssertNoErrors_AWarningOnly_Passes()
    {
        using var logs = new TestLogSink();
        Write(logs.CreateLogger<TestLogSinkTests>(), LogLevel.Warning, "a warning");
        logs.AssertNoErrors();
        Assert.AreEqual("a warning", logs.Messages.Single());
    }

    [TestMethod]
    public void AssertNoErrors_AnErrorWithException_FailsListingItsCategoryMessageAndException()
    {
        using var logs = new TestLogSink();
        Write(logs.CreateLogger<TestLogSinkTests>(), LogLevel.Error, "it broke", new InvalidOperationException("boom"));
        var thrown = Assert.ThrowsExactly<UnexpectedLogException>(logs.AssertNoErrors);
        StringAssert.Contains(thrown.Message, $"Error {typeof(TestLogSinkTests).FullName}[0]: it broke System.InvalidOperationException: boom");
    }

    [TestMethod]
    public void AssertNoWarnings_AfterClear_Passes()
    {
        using var logs = new TestLogSink();
        var log = logs.CreateLogger("host category");
        Write(log, LogLevel.Warning, "first");
        Assert.ThrowsExactly<UnexpectedLogException>(logs.AssertNoWarnings);
        logs.Clear();
        Write(log, LogLevel.Information, "second");
        logs.AssertNoWarnings();
        Assert.AreEqual("host category", logs.Entries.Single().Category);
    }

    [TestMethod]
    public void CreateLogger_ThroughALoggerFactoryThatIsDisposed_KeepsTheEntries()
    {
        var logs = new TestLogSink();
        using (var factory = LoggerFactory.Create(b => b.AddProvider(logs)))
        {
            Write(factory.CreateLogger("host"), LogLevel.Information, "from a host", id: 42);
        }

        Assert.AreEqual((42, "from a host"), (logs.Entries.Single().Id.Id, logs.Entries.Single().Message));
    }

    // Source-generated logging is for product code; a test writes the entry as is.
    private static void Write(ILogger log, LogLevel level, string text, Exception? exception = null, int id = 0) =>
        log.Log(level, new EventId(id), text, exception, (s, _) => s);
}

namespace Farm.EndToEnd.Tests.Harness;

[TestClass]
public sealed class CommandRunnerTests(TestContext testContext)
{
    [TestMethod]
    public async Task RunAsync_SuccessfulCommand_CapturesStdoutStderrAndStdin()
    {
        var result = await CommandRunner.Default.RunAsync("sh", ["-c", "cat; echo err >&2"], "from stdin\n", cancellationToken: testContext.CancellationToken);

        Assert.AreEqual(0, result.ExitCode);
        Assert.AreEqual("from stdin\n", result.StandardOutput);
        Assert.AreEqual("err\n", result.StandardError);
        Assert.AreEqual("sh -c 'cat; echo err >&2'", result.CommandLine);
    }

    [TestMethod]
    public async Task RunAsync_NonZeroExit_ThrowsWithCommandExitCodeAndStderr()
    {
        var e = await Assert.ThrowsExactlyAsync<CommandFailedException>(
            () => CommandRunner.Default.RunAsync("sh", ["-c", "echo broken pipe dream >&2; exit 42"], cancellationToken: testContext.CancellationToken));

        StringAssert.Contains(e.Message, "sh -c");
        StringAssert.Contains(e.Message, "exit code 42");
        StringAssert.Contains(e.Message, "broken pipe dream");
    }

    [TestMethod]
    public async Task RunUncheckedAsync_NonZeroExit_ReturnsResult()
    {
        var result = await CommandRunner.Default.RunUncheckedAsync("sh", ["-c", "exit 5"], cancellationToken: testContext.CancellationToken);
        Assert.AreEqual(5, result.ExitCode);
        Assert.IsFalse(result.Succeeded);
    }

    [TestMethod]
    public async Task RunAsync_MissingExecutable_ThrowsNamingIt()
    {
        var e = await Assert.ThrowsExactlyAsync<CommandFailedException>(
            () => CommandRunner.Default.RunAsync("/nonexistent/farm-tool", ["x"], cancellationToken: testContext.CancellationToken));
        StringAssert.Contains(e.Message, "/nonexistent/farm-tool");
        Assert.IsNull(e.Result);
    }

    [TestMethod]
    public async Task RunAsync_CommandOutlivesTimeout_KilledAndTimeoutExceptionNamesIt()
    {
        var e = await Assert.ThrowsExactlyAsync<TimeoutException>(
            () => CommandRunner.Default.RunAsync("sleep", ["30"], timeout: TimeSpan.FromMilliseconds(200), cancellationToken: testContext.CancellationToken));
        StringAssert.Contains(e.Message, "sleep 30");
    }
}

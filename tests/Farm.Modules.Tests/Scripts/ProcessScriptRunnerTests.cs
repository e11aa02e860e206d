using System.Globalization;

namespace Farm.Modules.Tests.Scripts;

[TestClass]
public sealed class ProcessScriptRunnerTests : ScriptDirectoryTest, IDisposable
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ForceTimeout = TimeSpan.FromSeconds(7);

    private readonly ManualTimeProvider time = new();
    private readonly TestLogSink logs = new();

    public void Dispose() => logs.Dispose();

    [TestMethod]
    public async Task RunAsync_ExitZero_SucceedsAndLogsItsOutputUnderTheScriptName()
    {
        Dir.Write("start_both", "echo hello from start\necho oops >&2");

        var result = await Runner().RunAsync(Request("start_both"), Poll.Deadline()).WithTimeout();

        Assert.AreEqual(ScriptOutcome.Succeeded, result.Outcome);
        Assert.Contains("web/start_both: hello from start", logs.Messages);
        Assert.IsTrue(logs.Entries.Any(e => e.Message == "web/start_both: oops" && e.Level == Microsoft.Extensions.Logging.LogLevel.Warning));
    }

    [TestMethod]
    public async Task RunAsync_PassesArgumentsEnvironmentAndWorkingDirectory()
    {
        Dir.Write("stop_both", "echo \"$*|$FARM_MODULE|$FARM_FORCE|$(pwd)\" > out.txt");

        await Runner().RunAsync(Request("stop_both", ["web", "node1", "UP", "STOP"]), Poll.Deadline()).WithTimeout();

        Assert.AreEqual($"web node1 UP STOP|web|0|{Dir.Root}", File.ReadAllText(Dir.PathOf("out.txt")).Trim());
    }

    [TestMethod]
    public async Task RunAsync_DaemonEnvironment_ScriptSeesOnlyTheCleanBaseAndItsFarmVariables()
    {
        Dir.Write("start_both", "env > env.txt");
        string? notify = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        Environment.SetEnvironmentVariable("NOTIFY_SOCKET", "/run/systemd/notify");
        Environment.SetEnvironmentVariable("FARM_TEST_DAEMON_ONLY", "leak");
        try
        {
            await Runner().RunAsync(Request("start_both"), Poll.Deadline()).WithTimeout();
        }
        finally
        {
            Environment.SetEnvironmentVariable("NOTIFY_SOCKET", notify);
            Environment.SetEnvironmentVariable("FARM_TEST_DAEMON_ONLY", null);
        }

        var names = File.ReadAllLines(Dir.PathOf("env.txt")).Select(l => l[..l.IndexOf('=', StringComparison.Ordinal)]).ToHashSet();
        // bash adds PWD, SHLVL and _ itself.
        names.ExceptWith(["PWD", "SHLVL", "_"]);
        CollectionAssert.AreEquivalent(new[] { "PATH", "LANG", "HOME", "FARM_MODULE", "FARM_FORCE" }.Concat(Environment.GetEnvironmentVariable("TZ") is { Length: > 0 } ? ["TZ"] : Array.Empty<string>()).ToArray(), names.ToArray());
        StringAssert.Contains(File.ReadAllText(Dir.PathOf("env.txt")), "PATH=" + ScriptEnvironment.Path);
    }

    [TestMethod]
    public async Task RunAsync_OutputWithEscapesAndAHugeLine_LogsPrintableCappedLines()
    {
        Dir.Write("start_both", "printf 'title\\033]0;owned\\007 red\\033[31m\\n'\nhead -c 100000 /dev/zero | tr '\\0' 'x'\necho\necho after");

        var result = await Runner().RunAsync(Request("start_both"), Poll.Deadline()).WithTimeout();

        Assert.AreEqual(ScriptOutcome.Succeeded, result.Outcome, result.Describe());
        Assert.Contains("web/start_both: title\\x1b]0;owned\\x07 red\\x1b[31m", logs.Messages);
        string huge = logs.Messages.Single(m => m.StartsWith("web/start_both: xxx", StringComparison.Ordinal));
        Assert.AreEqual("web/start_both: ".Length + ScriptOutputReader.MaxLineLength + " [... 95904 more characters of this line dropped]".Length, huge.Length, huge[^80..]);
        Assert.Contains("web/start_both: after", logs.Messages);
        Assert.IsFalse(logs.Messages.Any(m => m.Contains('\u001b', StringComparison.Ordinal)));
    }

    [TestMethod]
    public async Task RunAsync_NonZeroExit_FailsWithTheLastOutputLine()
    {
        Dir.Write("prestart", "echo checking\necho 'disk /data missing'\nexit 3");

        var result = await Runner().RunAsync(Request("prestart"), Poll.Deadline()).WithTimeout();

        Assert.AreEqual((ScriptOutcome.Failed, 3), (result.Outcome, result.ExitCode));
        Assert.AreEqual("exit code 3 (disk /data missing)", result.Describe());
    }

    [TestMethod]
    public async Task RunAsync_MissingScript_IsSkipped()
    {
        var result = await Runner().RunAsync(Request("poststop"), Poll.Deadline()).WithTimeout();

        Assert.AreEqual(ScriptOutcome.Skipped, result.Outcome);
        Assert.IsTrue(result.Succeeded);
    }

    [TestMethod]
    public async Task RunAsync_NotExecutable_FailsWithAHint()
    {
        Dir.Write("start_both", "exit 0", executable: false);

        var result = await Runner().RunAsync(Request("start_both"), Poll.Deadline()).WithTimeout();

        Assert.AreEqual(ScriptOutcome.Failed, result.Outcome);
        Assert.Contains("chmod +x", result.Detail);
    }

    [TestMethod]
    public async Task RunAsync_StartScriptHangs_ItsProcessGroupIsTerminatedAtTheTimeout()
    {
        var (run, child) = StartHanging("start_both", force: false);

        await ElapseAsync(ScriptTimeout);
        var result = await run.WithTimeout();

        Assert.AreEqual(ScriptOutcome.TimedOut, result.Outcome);
        Assert.AreEqual("timed out after 30s; terminated", result.Detail);
        ScriptDirectory.AssertDies(child, "the script's child");
    }

    [TestMethod]
    public async Task RunAsync_StartScriptIgnoresSigterm_IsKilledAfterTheGrace()
    {
        var (run, child) = StartHanging("start_both", "trap '' TERM\n", force: false);
        await ElapseAsync(ScriptTimeout);

        await ElapseAsync(ForceTimeout);
        var result = await run.WithTimeout();

        Assert.AreEqual("timed out after 30s; killed", result.Detail);
        ScriptDirectory.AssertDies(child, "the script's child");
    }

    [TestMethod]
    public async Task RunAsync_StopScriptHangs_RunsItAgainWithForce()
    {
        var (run, child) = StartHanging("stop_both", "if [ \"$1\" = force ]; then echo \"forced $FARM_FORCE\"; exit 0; fi\ntrap '' TERM\n");

        await ElapseAsync(ScriptTimeout);
        var result = await run.WithTimeout();

        Assert.AreEqual(ScriptOutcome.Forced, result.Outcome);
        Assert.IsTrue(result.Succeeded);
        Assert.AreEqual("timed out after 30s; the forced run succeeded", result.Detail);
        Assert.Contains("web/stop_both force: forced 1", logs.Messages);
        ScriptDirectory.AssertDies(child, "the hung normal run's child");
    }

    [TestMethod]
    public async Task RunAsync_StopScriptAndItsForcedRunHang_BothProcessGroupsAreKilled()
    {
        Dir.Write("stop_both", "trap '' TERM\nsleep 1000 &\necho $! > child-${1:-normal}.pid\nwait");
        var run = Runner().RunAsync(Request("stop_both"), Poll.Deadline());
        int normalChild = Dir.ReadPid("child-normal.pid");
        await ElapseAsync(ScriptTimeout);
        int forcedChild = Dir.ReadPid("child-force.pid");

        await ElapseAsync(ForceTimeout);
        var result = await run.WithTimeout();

        Assert.AreEqual(ScriptOutcome.TimedOut, result.Outcome);
        Assert.AreEqual("timed out after 30s; the forced run timed out after 7s; killed", result.Detail);
        ScriptDirectory.AssertDies(normalChild, "the normal run's child");
        ScriptDirectory.AssertDies(forcedChild, "the forced run's child");
    }

    [TestMethod]
    public async Task RunAsync_Cancelled_KillsTheScriptAndThrows()
    {
        using var cts = new CancellationTokenSource();
        var (run, child) = StartHanging("start_both", force: false, cancel: cts.Token);

        await cts.CancelAsync();

        await Assert.ThrowsAsync<OperationCanceledException>(() => run.WithTimeout());
        ScriptDirectory.AssertDies(child, "the script's child");
    }

    [TestMethod]
    public async Task RunAsync_NiceAdjustment_ScriptAndWhatItStartsRunThatMuchNicer()
    {
        Dir.Write("start_both", "nice > own.txt\nsh -c nice > child.txt");
        await Runner().RunAsync(Request("start_both"), Poll.Deadline()).WithTimeout();
        int baseline = int.Parse(File.ReadAllText(Dir.PathOf("own.txt")).Trim(), CultureInfo.InvariantCulture);

        var result = await Runner(niceAdjustment: 5).RunAsync(Request("start_both"), Poll.Deadline()).WithTimeout();

        Assert.AreEqual(ScriptOutcome.Succeeded, result.Outcome, result.Describe());
        int expected = Math.Min(19, baseline + 5);
        Assert.AreEqual(expected, int.Parse(File.ReadAllText(Dir.PathOf("own.txt")).Trim(), CultureInfo.InvariantCulture));
        Assert.AreEqual(expected, int.Parse(File.ReadAllText(Dir.PathOf("child.txt")).Trim(), CultureInfo.InvariantCulture));
    }

    [TestMethod]
    public async Task RunAsync_NiceAdjustedScriptHangs_ItsProcessGroupIsStillTerminated()
    {
        Dir.Write("start_both", "sleep 1000 &\necho $! > child.pid\nwait");
        var run = Runner(niceAdjustment: 3).RunAsync(Request("start_both", force: false), Poll.Deadline());
        int child = Dir.ReadPid("child.pid");

        await ElapseAsync(ScriptTimeout);
        var result = await run.WithTimeout();

        Assert.AreEqual("timed out after 30s; terminated", result.Detail);
        ScriptDirectory.AssertDies(child, "the script's child");
    }

    /// <summary>
    /// Writes <paramref name="name"/> as <paramref name="before"/>, then a child that sleeps (its pid in child.pid) and
    /// a wait for it; starts it and returns the run and the child's pid.
    /// </summary>
    private (Task<ScriptResult> Run, int Child) StartHanging(string name, string before = "", bool force = true, CancellationToken? cancel = null)
    {
        Dir.Write(name, before + "sleep 1000 &\necho $! > child.pid\nwait");
        var run = Runner().RunAsync(Request(name, force: force), cancel ?? Poll.Deadline());
        return (run, Dir.ReadPid("child.pid"));
    }

    private ProcessScriptRunner Runner(int niceAdjustment = 0) => new(time, logs.CreateLogger<ProcessScriptRunner>()) { NiceAdjustment = niceAdjustment };

    private ScriptRequest Request(string name, string[]? arguments = null, bool force = true) =>
        new("web", name, Path.Combine(Dir.Root, "bin", name), arguments ?? [], new Dictionary<string, string> { ["FARM_MODULE"] = "web" }, Dir.Root, ScriptTimeout, ForceTimeout, force);

    /// <summary>Waits until the runner arms its <paramref name="timeout"/> timer, then lets that much time pass.</summary>
    private async Task ElapseAsync(TimeSpan timeout)
    {
        await time.WaitForTimerAsync(timeout, Poll.Deadline());
        time.Advance(timeout);
    }
}

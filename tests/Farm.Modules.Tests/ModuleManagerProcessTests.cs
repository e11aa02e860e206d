using Microsoft.Extensions.Logging.Abstractions;
using static Farm.Modules.Tests.TestSupport.TestModules;

namespace Farm.Modules.Tests;

/// <summary>The public factory with the real script runner and a real custom checker, on a module folder of shell scripts.</summary>
[TestClass]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ModuleManagerProcessTests : ScriptDirectoryTest
{
    private readonly ManualTimeProvider time = new();
    private readonly TestJournal journal = new();

    [TestMethod]
    public async Task RealScripts_StartCheckWaitAndStop()
    {
        Dir.Write("prestart", "echo \"prestart $FARM_STATE->$FARM_NEXT_STATE\" > trace");
        Dir.Write("start_both", "echo \"start_both $*\" >> trace\ntouch running");
        Dir.Write("stop_both", "echo \"stop_both $FARM_ACTION\" >> trace\nrm -f running");
        Dir.Write("poststop", "echo poststop >> trace");
        Dir.Write("checkers/alive", "test -f running || { echo 'application not running'; exit 1; }");
        var alive = new CustomCheckerConfig { Name = "alive", Script = "checkers/alive", Action = CheckerAction.Wait };
        var options = new ModuleHostOptions { NodeName = "node1", ModuleDirectory = Dir.Root };
        await using var manager = ModuleManager.Create(Module(checkers: alive), options, new FakeTrafficGate(journal), time, NullLoggerFactory.Instance);

        manager.Start("boot");
        await manager.WaitForStatusAsync(s => s.IsReadyForTraffic, Poll.Deadline()).WithTimeout();
        CollectionAssert.AreEqual(
            new[] { "prestart STOP->UP", "start_both web node1 198.18.100.1 STOP UP start 42" },
            File.ReadAllLines(Dir.PathOf("trace")));

        await time.WaitForTimerAsync(alive.Interval, Poll.Deadline());
        File.Delete(Dir.PathOf("running"));
        time.Advance(alive.Interval);
        var waiting = await manager.WaitForStatusAsync(s => s.State == ModuleState.Wait && s.SubState == ModuleSubState.NotReady, Poll.Deadline()).WithTimeout();
        Assert.AreEqual("checker alive down: checkers/alive: exit code 1 (application not running)", waiting.Reason);

        var stopped = await manager.StopAndWaitAsync("admin stop", Poll.Deadline()).WithTimeout();
        Assert.AreEqual(ModuleSubState.Ready, stopped.SubState);
        CollectionAssert.AreEqual(new[] { "stop_both stop", "poststop" }, File.ReadAllLines(Dir.PathOf("trace"))[2..]);
    }

    [TestMethod]
    public async Task DemoWebExample_StartsServesAndStops()
    {
        // A copy of the example, so the test can give it an env.local (scripts get a clean environment, not the test's).
        string module = Path.Combine(Dir.Root, "demo-web-module");
        CopyTree(Path.Combine(RepositoryRoot(), "docs", "examples", "modules", "demo-web"), module);
        var parsed = ConfigParser.ParseModule(File.ReadAllText(Path.Combine(module, "farm.yaml")), "farm.yaml");
        Assert.IsNotNull(parsed.Value, string.Join("; ", parsed.Errors));
        int port = LoopbackPorts.FreeOn(1);
        // The example's scripts read env.local, so the test needs neither port 8080 nor /run nor eth0.
        File.WriteAllText(Path.Combine(module, "env.local"), $"PORT={port}\nRUN_BASE='{Dir.Root}'\n");
        var config = parsed.Value with
        {
            Checkers = [.. parsed.Value.Checkers.Select(c => c switch
            {
                InterfaceCheckerConfig link => link with { Interface = "lo" },
                HttpCheckerConfig http => http with { Url = new Uri($"http://127.0.0.1:{port}/health.txt") },
                _ => c,
            })],
        };
        var options = new ModuleHostOptions { NodeName = "node1", ModuleDirectory = module };
        await using var manager = ModuleManager.Create(config, options, new FakeTrafficGate(journal), time, NullLoggerFactory.Instance);

        manager.Start("boot");
        var up = await manager.WaitForStatusAsync(s => s.IsReadyForTraffic || s.IsStopped && s.SubState == ModuleSubState.NotReady, Poll.Deadline()).WithTimeout();
        var stopped = await manager.StopAndWaitAsync("admin stop", Poll.Deadline()).WithTimeout();

        Assert.IsTrue(up.IsReadyForTraffic, up.ToString());
        Assert.IsTrue(up.Checkers.All(c => c.Up != false), string.Join("; ", up.Checkers));
        Assert.AreEqual(ModuleSubState.Ready, stopped.SubState, stopped.ToString());
        Assert.IsFalse(File.Exists(Path.Combine(Dir.Root, "demo-web", "server.pid")));
    }


    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
        {
            string target = Path.Combine(to, Path.GetFileName(file));
            File.Copy(file, target);
            File.SetUnixFileMode(target, File.GetUnixFileMode(file));
        }

        foreach (string sub in Directory.GetDirectories(from))
        {
            CopyTree(sub, Path.Combine(to, Path.GetFileName(sub)));
        }
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Farm.sln")))
            {
                return d.FullName;
            }
        }

        throw new InvalidOperationException("Farm.sln not found above " + AppContext.BaseDirectory);
    }
}

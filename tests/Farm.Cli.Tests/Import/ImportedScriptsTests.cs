using System.Diagnostics;
using static Farm.Cli.Tests.Import.ImportTestData;

namespace Farm.Cli.Tests.Import;

/// <summary>Runs the scripts of an imported module as farmd runs them (clean environment, Farm's arguments).</summary>
[TestClass]
public sealed class ImportedScriptsTests
{
    // A SafeKit script that records how it was called: its arguments, a <user> variable and SafeKit's variables.
    private const string Recorder = """
        #!/bin/sh
        echo "$(basename "$0") $# $*" >>"$SAFEUSERVAR/calls"
        printf '%s|%s|%s\n' "$SERVICES" "$SAFEMODULE" "$(cd "$SAFEUSERBIN/../.." && pwd)" >>"$SAFEUSERVAR/calls"
        "$SAFE/safekit" printi "ran $(basename "$0")"

        """;

    [TestMethod]
    [DataRow("start_both", "", "STOP", "UP", "start", "start_both 3 STOP UP start")]
    [DataRow("stop_both", "", "UP", "STOP", "stop", "stop_both 3 UP STOP stop")]
    [DataRow("stop_both", "force", "UP", "STOP", "stop", "stop_both 4 force UP STOP stop")]
    [DataRow("stop_both", "", "UP", "WAIT", "wait", "stop_both 3 UP WAIT stopwait")]
    [DataRow("stop_both", "", "UP", "UP", "restart", "stop_both 3 UP UP stopstart")]
    [DataRow("start_both", "", "UP", "UP", "stopstart", "start_both 3 UP UP stopstart")]
    [DataRow("poststop", "", "WAIT", "STOP", "failure", "poststop 3 WAIT STOP stop")]
    [DataRow("prestart", "", "STOP", "WAIT", "start", "prestart 3 STOP WAIT start")]
    public async Task Launcher_FarmsArguments_CallsTheSafeKitScriptWithItsThreeArguments(string script, string force, string state, string next, string action, string expected)
    {
        using var temp = new TempFolder();
        string module = ImportSafeKitModule(temp, Text("user-vars.xml"), ("prestart", Recorder), ("start_both", Recorder), ("stop_both", Recorder), ("poststop", Recorder));

        var (exit, output) = await RunAsFarmdAsync(temp, module, "bin/" + script, force, state, next, action).WithTimeout();

        Assert.AreEqual(0, exit, output);
        Assert.AreEqual($"ran {script}", output.Trim(), "the stand-in 'safekit printi' writes to the script's output");
        string[] calls = File.ReadAllLines(temp.Combine("var", "modules", "web", "calls"));
        Assert.AreEqual(expected, calls[0].TrimEnd());
        Assert.AreEqual($"httpd,php-fpm|web|{module}", calls[1]);
    }

    [TestMethod]
    public async Task Launcher_FailingSafeKitScript_ExitsWithItsCode()
    {
        using var temp = new TempFolder();
        string module = ImportSafeKitModule(temp, Text("user-vars.xml"), ("start_both", "#!/bin/sh\necho 'port 80 in use' >&2\nexit 3\n"));

        var (exit, output) = await RunAsFarmdAsync(temp, module, "bin/start_both", "", "STOP", "UP", "start").WithTimeout();

        Assert.AreEqual(3, exit);
        StringAssert.Contains(output, "port 80 in use");
    }

    [TestMethod]
    public async Task Launcher_SafeKitFileWritableByOthers_RefusesToRunIt()
    {
        using var temp = new TempFolder();
        string module = ImportSafeKitModule(temp, Text("user-vars.xml"), ("start_both", Recorder));
        string script = Path.Combine(module, "safekit", "bin", "start_both");
        File.SetUnixFileMode(script, File.GetUnixFileMode(script) | UnixFileMode.OtherWrite);

        var (exit, output) = await RunAsFarmdAsync(temp, module, "bin/start_both", "", "STOP", "UP", "start").WithTimeout();

        Assert.AreEqual(126, exit);
        StringAssert.Contains(output, "/bin/../safekit/bin/start_both is writable by group or others");
        Assert.IsFalse(File.Exists(temp.Combine("var", "modules", "web", "calls")), "the script did not run");
    }

    [TestMethod]
    public void Import_WrittenFolder_IsNeitherGroupNorOtherWritable()
    {
        using var temp = new TempFolder();

        string module = ImportSafeKitModule(temp, Text("user-vars.xml"), ("start_both", Recorder));

        foreach (string path in Directory.EnumerateFileSystemEntries(module, "*", SearchOption.AllDirectories).Prepend(module))
        {
            Assert.AreEqual((UnixFileMode)0, File.GetUnixFileMode(path) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite), path);
        }

        Assert.AreEqual(UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(module, "bin", "start_both")) & UnixFileMode.UserExecute);
    }

    [TestMethod]
    [DataRow(true, 0, "")]
    [DataRow(false, 1, "custom.AppChecker is down")]
    public async Task CustomCheckerAdapter_SafeKitLoopingChecker_ExitsWithItsFirstVerdictAtOnce(bool flag, int expectedExit, string expectedOutput)
    {
        using var temp = new TempFolder();
        string flagFile = temp.Combine("app-ok");
        if (flag)
        {
            File.WriteAllText(flagFile, "");
        }

        string xml = Text("simple-farm.xml").Replace(
            "</check>",
            $"  <custom ident=\"AppChecker\" when=\"both\" exec=\"appcheck\" arg=\"{flagFile}\" action=\"restart\"/>\n    </check>",
            StringComparison.Ordinal);
        // SafeKit's custom checker shape: a loop that reports with 'safekit set' and sleeps.
        string checker = "#!/bin/sh\nwhile :; do\n  if [ -e \"$1\" ]; then safekit set -r custom.AppChecker -v up; else \"$SAFE/safekit\" set -r custom.AppChecker -v down; fi\n  sleep 30\ndone\n";
        string module = ImportSafeKitModule(temp, xml, ("appcheck", checker));
        long start = Stopwatch.GetTimestamp();

        var (exit, output) = await RunAsFarmdAsync(temp, module, "checkers/appchecker", "", "UP", "UP", "start").WithTimeout();

        Assert.AreEqual(expectedExit, exit, output);
        Assert.AreEqual(expectedOutput, output.Trim());
        Assert.IsTrue(Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(10), "the adapter stops the checker after its first verdict instead of waiting for its loop");
    }

    /// <summary>Runs a file of the module as farmd does: Farm's arguments, only the FARM_* variables, the module folder as working directory.</summary>
    private static async Task<(int Exit, string Output)> RunAsFarmdAsync(TempFolder temp, string module, string file, string force, string state, string next, string action)
    {
        var start = new ProcessStartInfo(Path.Combine(module, file)) { WorkingDirectory = module, RedirectStandardOutput = true, RedirectStandardError = true };
        if (force.Length > 0)
        {
            start.ArgumentList.Add(force);
        }

        foreach (string argument in new[] { "web", "node1", "198.18.100.80", state, next, action, "7" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Clear();
        start.Environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        start.Environment["LANG"] = "C.UTF-8";
        start.Environment["FARM_MODULE"] = "web";
        start.Environment["FARM_NODE"] = "node1";
        start.Environment["FARM_MODULE_DIR"] = module;
        start.Environment["FARM_SCRIPT"] = Path.GetFileName(file);
        start.Environment["FARM_STATE"] = state;
        start.Environment["FARM_NEXT_STATE"] = next;
        start.Environment["FARM_ACTION"] = action;
        start.Environment["FARM_EPOCH"] = "7";
        start.Environment["FARM_FORCE"] = force.Length > 0 ? "1" : "0";
        start.Environment["SAFEVAR"] = temp.Combine("var"); // instead of /var/lib/farm/safekit (farmd passes no such variable)
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}

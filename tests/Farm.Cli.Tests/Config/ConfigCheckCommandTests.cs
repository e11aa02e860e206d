namespace Farm.Cli.Tests.Config;

[TestClass]
public sealed class ConfigCheckCommandTests
{
    private static readonly string Cluster = CliRun.RepoFile("docs", "examples", "cluster.yaml");
    private static readonly string Web = CliRun.RepoFile("docs", "examples", "modules", "web", "farm.yaml");
    private static readonly string Single = CliRun.RepoFile("docs", "examples", "modules", "single", "farm.yaml");
    private static readonly string FiveMistakes = CliRun.RepoFile("tests", "Farm.Core.Tests", "Config", "TestData", "module-five-mistakes.yaml");

    [TestMethod]
    public void Check_ExampleFiles_PrintsOneSummaryLineEachAndExitsZero()
    {
        var run = CliRun.Of("config", "check", Cluster, Web, Single);

        Assert.AreEqual(CliApp.ExitOk, run.ExitCode, run.Output);
        // The example's mode depends on the checkout's umask: a key readable by others adds a warning (tested below).
        CollectionAssert.AreEqual(
            new[]
            {
                $"{Cluster}: OK — cluster 'demo', 3 nodes, 2 LANs, split-brain witness",
                $"{Web}: OK — module 'web', balance, 2 VIPs, 2 rules, 2 checkers, 4096 buckets",
                $"{Single}: OK — module 'db', single, 1 VIP, 1 rule, 3 checkers, 4096 buckets",
            },
            run.OutputLines.Where(l => !l.StartsWith(Cluster + ": warning: ", StringComparison.Ordinal)).ToArray());
        Assert.AreEqual("", run.Error);
    }

    [TestMethod]
    public void Check_FileWithFiveMistakes_PrintsFiveLocatedErrorsWithHintsAndExitsOne()
    {
        var run = CliRun.Of("config", "check", FiveMistakes);

        Assert.AreEqual(CliApp.ExitFailed, run.ExitCode);
        var lines = run.OutputLines;
        Assert.AreEqual(6, lines.Length, run.Output);
        string[] positions = [":6:7: error: ", ":8:12: error: ", ":9:3: error: ", ":13:31: error: ", ":19:17: error: "];
        for (int i = 0; i < positions.Length; i++)
        {
            Assert.IsTrue(lines[i].StartsWith(FiveMistakes + positions[i], StringComparison.Ordinal), lines[i]);
            StringAssert.Contains(lines[i], " (hint: ");
            Assert.IsTrue(lines[i].EndsWith(')'), lines[i]);
        }

        Assert.AreEqual("5 errors in 1 file", lines[5]);
    }

    [TestMethod]
    public void Check_GoodAndBadFiles_PrintsBothAndCountsOnlyBadFiles()
    {
        var run = CliRun.Of("config", "check", Cluster, FiveMistakes, "/nonexistent/farm.yaml");

        Assert.AreEqual(CliApp.ExitFailed, run.ExitCode);
        var lines = run.OutputLines;
        StringAssert.StartsWith(lines[0], Cluster + ": OK");
        Assert.AreEqual("/nonexistent/farm.yaml:1:1: error: file not found (no such directory) (hint: check the path)", lines[^2]);
        Assert.AreEqual("6 errors in 2 files", lines[^1]);
    }

    [TestMethod]
    public void Check_MissingFile_PrintsLocatedErrorAndExitsOne()
    {
        string missing = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N") + ".yaml");
        var run = CliRun.Of("config", "check", missing);

        Assert.AreEqual(CliApp.ExitFailed, run.ExitCode);
        CollectionAssert.AreEqual(new[] { missing + ":1:1: error: file not found (hint: check the path)", "1 error in 1 file" }, run.OutputLines);
    }

    [TestMethod]
    public void Check_Directory_SaysItIsADirectory()
    {
        var run = CliRun.Of("config", "check", Path.GetTempPath());
        Assert.AreEqual(CliApp.ExitFailed, run.ExitCode);
        StringAssert.Contains(run.Output, "is a directory, not a file");
    }

    [TestMethod]
    public void Check_UnreadableFile_ReportsPermissionOrIoError()
    {
        using var output = new StringWriter();
        int code = ConfigChecker.Check(["locked.yaml"], output, _ => throw new UnauthorizedAccessException());
        Assert.AreEqual(CliApp.ExitFailed, code);
        StringAssert.StartsWith(output.ToString(), "locked.yaml:1:1: error: permission denied (hint: ");

        using var output2 = new StringWriter();
        ConfigChecker.Check(["bad.yaml"], output2, _ => throw new IOException("device gone"));
        StringAssert.StartsWith(output2.ToString(), "bad.yaml:1:1: error: cannot read the file: device gone");
    }

    [TestMethod]
    public void Check_FileNameStartingWithAt_IsNotAResponseFile()
    {
        InScratch(dir =>
        {
            string path = Path.Combine(dir, "@cluster.yaml");
            File.Copy(Cluster, path);
            var run = CliRun.Of("config", "check", path);
            Assert.AreEqual(CliApp.ExitOk, run.ExitCode, run.Output + run.Error);
        });
    }

    [TestMethod]
    public void Check_KeyFileReadableByOthers_WarnsThatFarmdRefusesItButExitsZero()
    {
        InScratch(dir =>
        {
            string cluster = Path.Combine(dir, "cluster.yaml");
            File.WriteAllText(cluster, "cluster:\n  name: demo\n  key_file: cluster.key\n  nodes: [{ name: a, addresses: [198.18.0.1] }]\n");
            File.WriteAllText(Path.Combine(dir, "cluster.key"), "0123456789abcdef0123\n");
            File.SetUnixFileMode(Path.Combine(dir, "cluster.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

            var run = CliRun.Of("config", "check", cluster);

            Assert.AreEqual(CliApp.ExitOk, run.ExitCode, run.Output);
            CollectionAssert.AreEqual(
                new[]
                {
                    $"{cluster}: OK — cluster 'demo', 1 node, 1 LAN, split-brain none",
                    $"{cluster}: warning: farmd refuses to start with this file: the cluster key must be readable by root only, and {dir}/cluster.key is readable by group or others (mode 0604): run 'chmod 600 {dir}/cluster.key'",
                },
                run.OutputLines);

            File.SetUnixFileMode(Path.Combine(dir, "cluster.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            Assert.AreEqual(1, CliRun.Of("config", "check", cluster).OutputLines.Length, "no warning for a 0600 key file");
            Assert.AreEqual(
                Farm.Core.Config.ConfigParser.ParseCluster("cluster:\n  name: demo\n  key: 0123456789abcdef0123\n  nodes: [{ name: a, addresses: [198.18.0.1] }]\n", "x").Value!.ComputeHash(),
                CliRun.Of("config", "hash", cluster).OutputLines.Single(),
                "the hash covers the key, not where it is kept");
        });
    }

    [TestMethod]
    public void Check_TwoModulesWithOneVip_ReportsTheConflictAfterTheirOkLines()
    {
        InScratch(dir =>
        {
            string web = Path.Combine(dir, "web.yaml");
            string db = Path.Combine(dir, "db.yaml");
            File.WriteAllText(web, "module:\n  name: web\n  interface: eth0\n  vips: [198.18.100.1]\n  rules: [{ ports: 80 }]\n");
            File.WriteAllText(db, "module:\n  name: db\n  interface: eth0\n  vips: [198.18.100.1]\n  rules: [{ ports: 5432 }]\n");

            var run = CliRun.Of("config", "check", web, db);

            Assert.AreEqual(CliApp.ExitFailed, run.ExitCode);
            Assert.AreEqual($"{db}:1:1: error: VIP 198.18.100.1 of module 'db' is also a VIP of module 'web' ({web}) (hint: give each module its own VIPs: a node binds each VIP once)", run.OutputLines[2]);
            Assert.AreEqual("1 error in 1 file", run.OutputLines[3]);
        });
    }

    [TestMethod]
    public void Check_MissingKeyFile_IsALocatedError()
    {
        InScratch(dir =>
        {
            string cluster = Path.Combine(dir, "cluster.yaml");
            File.WriteAllText(cluster, "cluster:\n  name: demo\n  key_file: /nonexistent/cluster.key\n  nodes: [{ name: a, addresses: [198.18.0.1] }]\n");

            var run = CliRun.Of("config", "check", cluster);

            Assert.AreEqual(CliApp.ExitFailed, run.ExitCode);
            StringAssert.StartsWith(run.OutputLines[0], $"{cluster}:3:13: error: key file '/nonexistent/cluster.key' cannot be read: no such file (hint: ");
        });
    }

    [TestMethod]
    public void Check_FileOverTheSizeLimit_IsRefusedWithoutReadingIt()
    {
        InScratch(dir =>
        {
            string big = Path.Combine(dir, "big.yaml");
            using (var stream = File.Create(big))
            {
                stream.SetLength(Farm.Core.Config.ConfigLimits.MaxFileLength + 1L);
            }

            var run = CliRun.Of("config", "check", big);

            Assert.AreEqual(CliApp.ExitFailed, run.ExitCode);
            StringAssert.StartsWith(run.OutputLines[0], $"{big}:1:1: error: cannot read the file: the file holds 1048577 bytes, more than the limit of 1048576");
        });
    }

    [TestMethod]
    public void Hash_ClusterFile_PrintsSha256AndExitsZero()
    {
        var run = CliRun.Of("config", "hash", Cluster);
        Assert.AreEqual(CliApp.ExitOk, run.ExitCode, run.Output);
        var expected = Farm.Core.Config.ConfigParser.ParseCluster(File.ReadAllText(Cluster), Cluster).Value!.ComputeHash();
        CollectionAssert.AreEqual(new[] { expected }, run.OutputLines);
    }

    [TestMethod]
    public void Hash_ModuleFile_ExplainsAndExitsOne()
    {
        var run = CliRun.Of("config", "hash", Web);
        Assert.AreEqual(CliApp.ExitFailed, run.ExitCode);
        StringAssert.Contains(run.Output, "only a cluster file has a configuration hash");
    }

    /// <summary>Runs <paramref name="test"/> in a scratch folder of its own, deleted after it.</summary>
    private static void InScratch(Action<string> test)
    {
        string dir = Directory.CreateTempSubdirectory("farmctl").FullName;
        try
        {
            test(dir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

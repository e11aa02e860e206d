using Farm.Cluster.Membership;

namespace Farm.Daemon.Tests.Reload;

[TestClass]
public sealed class ClusterReloaderTests() : LoggedTempDirectoryTest("farmd-reload-")
{
    [TestMethod]
    public void Check_NewerVersionAndOtherWeights_Accepted()
    {
        var (problems, unchanged) = ClusterReloader.Check(Cluster(version: 1), Cluster(version: 2, n2Weight: 300), mustBeNewer: true);
        Assert.AreEqual((0, false), (problems.Count, unchanged), string.Join("; ", problems));
    }

    [TestMethod]
    public void Check_SameVersionOtherWeights_AdminApplyRefusedWithTheVersionRule()
    {
        var (problems, _) = ClusterReloader.Check(Cluster(version: 3), Cluster(version: 3, n2Weight: 300), mustBeNewer: true);
        CollectionAssert.AreEqual(new[] { "config version 3 is not newer than the running version 3: raise `version`" }, problems.ToArray());
    }

    [TestMethod]
    public void Check_SameVersionOtherWeights_ReloadFromDiskAccepted()
    {
        var (problems, unchanged) = ClusterReloader.Check(Cluster(version: 3), Cluster(version: 3, n2Weight: 300), mustBeNewer: false);
        Assert.AreEqual((0, false), (problems.Count, unchanged));
    }

    [TestMethod]
    public void Check_LowerVersion_ReloadFromDiskRefused()
    {
        var (problems, _) = ClusterReloader.Check(Cluster(version: 3), Cluster(version: 2, n2Weight: 300), mustBeNewer: false);
        CollectionAssert.AreEqual(new[] { "config version 2 is older than the running version 3: raise `version` to at least 3" }, problems.ToArray());
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void Check_SameVersionAndWeights_UnchangedWithoutProblems(bool mustBeNewer)
    {
        var (problems, unchanged) = ClusterReloader.Check(Cluster(version: 3), Cluster(version: 3), mustBeNewer);
        Assert.AreEqual((0, true), (problems.Count, unchanged));
    }

    [TestMethod]
    public void Check_OtherSettingsAndOldVersion_ReportsBothNamingEveryKey()
    {
        var candidate = Cluster(version: 1) with { GrpcPort = 9500, ConsolePort = 9510 };
        var (problems, _) = ClusterReloader.Check(Cluster(version: 1), candidate, mustBeNewer: true);
        CollectionAssert.AreEqual(
            new[]
            {
                "grpc_port, console_port differ from the running cluster file and need a restart of farmd (copy the file to every node, then restart each); only node weights and `version` change live",
                "config version 1 is not newer than the running version 1: raise `version`",
            },
            problems.ToArray());
    }

    [TestMethod]
    public void Check_OneOtherSetting_SaysItInTheSingular()
    {
        var candidate = Cluster(version: 2) with { Nodes = [.. Cluster(version: 2).Nodes.Select(n => n.Name == "n3" ? n with { Priority = 5 } : n)] };
        var (problems, _) = ClusterReloader.Check(Cluster(version: 1), candidate, mustBeNewer: true);
        StringAssert.StartsWith(problems.Single(), "nodes[n3].priority differs from the running cluster file and needs a restart of farmd");
    }

    [TestMethod]
    public void Apply_NewerFileWithOwnWeight_WritesTheFileMode0600AndAnnouncesTheWeight()
    {
        var (reloader, host, path) = Start("n2");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        string text = FarmConfigFiles.RenderCluster(Cluster(version: 1, n2Weight: 250));

        var result = reloader.Apply(text, "new.yaml", "tester");

        Assert.AreEqual(new ReloadResult(ReloadOutcome.Applied, [], 1, 100, 250, path), result with { Errors = [] });
        Assert.AreEqual(0, result.Errors.Count);
        Assert.AreEqual(text, File.ReadAllText(path));
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.AreEqual((250, false), host.Read((m, _) => (m.Self.Weight, m.Self.Leaving)));
        Assert.AreEqual((1, 250), (reloader.Running.Version, reloader.Running.Nodes.Single(n => n.Name == "n2").Weight));
        Assert.IsTrue(Logs.Entries.Any(e => e.Id.Id == 500 && e.Message.Contains("config apply by tester", StringComparison.Ordinal) && e.Message.Contains("weight 100 -> 250", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void Apply_OtherNodesWeightOnly_AppliedWithoutChangingOwnWeight()
    {
        var (reloader, host, _) = Start("n1");
        var result = reloader.Apply(FarmConfigFiles.RenderCluster(Cluster(version: 1, n2Weight: 250)), "new.yaml", "tester");
        Assert.AreEqual((ReloadOutcome.Applied, 100, 100), (result.Outcome, result.PreviousWeight, result.Weight));
        Assert.AreEqual(100, host.Read((m, _) => m.Self.Weight));
    }

    [TestMethod]
    public void Apply_Refused_NothingWrittenNothingAnnounced()
    {
        var (reloader, host, path) = Start("n2");
        string before = File.ReadAllText(path);

        var result = reloader.Apply(FarmConfigFiles.RenderCluster(Cluster(version: 0, n2Weight: 250)), "new.yaml", "tester");

        Assert.AreEqual(ReloadOutcome.Refused, result.Outcome);
        CollectionAssert.AreEqual(new[] { "config version 0 is not newer than the running version 0: raise `version`" }, result.Errors.ToArray());
        Assert.AreEqual(before, File.ReadAllText(path));
        Assert.AreEqual(100, host.Read((m, _) => m.Self.Weight));
        Assert.IsTrue(Logs.Entries.Any(e => e.Id.Id == 501 && e.Level == LogLevel.Warning));
    }

    [TestMethod]
    public void Apply_InvalidText_ErrorsLocatedInTheGivenFileName()
    {
        var (reloader, _, _) = Start("n2");
        var result = reloader.Apply("cluster:\n  name: x\n  verison: 2\n", "/etc/farm/new.yaml", "tester");
        Assert.AreEqual(ReloadOutcome.Refused, result.Outcome);
        CollectionAssert.Contains(result.Errors.ToArray(), "/etc/farm/new.yaml:3:3: error: unknown key 'verison' in cluster (hint: did you mean 'version'?)");
    }

    [TestMethod]
    public void Apply_TargetCannotBeReplaced_FailedAndStillRunningTheOldFile()
    {
        var (_, host, path) = Start("n2");
        string folder = Path.Combine(Dir, "not-a-file");
        Directory.CreateDirectory(folder);
        var settings = Load(path, "n2") with { ClusterFile = folder };
        var reloader = new ClusterReloader(settings.BindClusterFile(), host, Logs.CreateLogger<ClusterReloader>());

        var result = reloader.Apply(FarmConfigFiles.RenderCluster(Cluster(version: 1, n2Weight: 250)), "new.yaml", "tester");

        Assert.AreEqual(ReloadOutcome.Failed, result.Outcome);
        StringAssert.StartsWith(result.Errors.Single(), $"cannot write {folder}: ");
        StringAssert.EndsWith(result.Errors.Single(), "(nothing changed; check the folder's permissions and free space)");
        Assert.AreEqual((0, 100), (reloader.Running.Version, host.Read((m, _) => m.Self.Weight)));
        Assert.IsEmpty(Directory.GetFiles(Dir, "*.tmp"), "the temporary file is removed");
    }

    [TestMethod]
    public void ReloadFromDisk_EditedOwnWeightSameVersion_Applied()
    {
        var (reloader, host, path) = Start("n2");
        FarmConfigFiles.WriteCluster(Cluster(version: 0, n2Weight: 40), path);

        var result = reloader.ReloadFromDisk();

        Assert.AreEqual((ReloadOutcome.Applied, 100, 40), (result.Outcome, result.PreviousWeight, result.Weight));
        Assert.AreEqual(40, host.Read((m, _) => m.Self.Weight));
        Assert.IsTrue(Logs.Entries.Any(e => e.Id.Id == 500 && e.Message.Contains("(SIGHUP)", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void ReloadFromDisk_OlderOrOtherFile_RefusedLoggedAndOldFileKept()
    {
        var (reloader, host, path) = Start("n2");
        Assert.AreEqual(ReloadOutcome.Applied, reloader.Apply(FarmConfigFiles.RenderCluster(Cluster(version: 5)), "v5.yaml", "tester").Outcome);
        FarmConfigFiles.WriteCluster(Cluster(version: 4, n2Weight: 40), path);

        var result = reloader.ReloadFromDisk();

        Assert.AreEqual(ReloadOutcome.Refused, result.Outcome);
        Assert.AreEqual((5, 100), (reloader.Running.Version, host.Read((m, _) => m.Self.Weight)));
        Assert.IsTrue(Logs.Entries.Any(e => e.Id.Id == 504 && e.Message.Contains("older than the running version 5", StringComparison.Ordinal)));

        File.WriteAllText(path, "cluster: [");
        Assert.AreEqual(ReloadOutcome.Refused, reloader.ReloadFromDisk().Outcome, "a broken file is refused too");
        File.Delete(path);
        Assert.AreEqual(ReloadOutcome.Failed, reloader.ReloadFromDisk().Outcome, "a missing file cannot be read");
        Assert.AreEqual(5, reloader.Running.Version);
    }

    private static ClusterConfig Cluster(int version, int n2Weight = 100) => new()
    {
        Name = "farmd-test",
        Key = TestClusterFiles.Key,
        Version = version,
        GrpcPort = 19400,
        ConsolePort = 19401,
        Nodes = [.. TestClusterFiles.Nodes.Take(3).Select((n, i) => new NodeConfig
        {
            Name = n,
            Addresses = [System.Net.IPAddress.Parse($"198.18.0.{i + 1}")],
            Weight = n == "n2" ? n2Weight : 100,
        })],
    };

    private (ClusterReloader Reloader, MembershipHost Host, string Path) Start(string self)
    {
        string path = FarmConfigFiles.WriteCluster(Cluster(version: 0), Path.Combine(Dir, "cluster.yaml"));
        var settings = Load(path, self);
        var host = new MembershipHost(
            FarmNode.OptionsOf(settings.Cluster), new MemberInfo(self, 1, settings.Self.Weight, 0, false, []), settings.Cluster.ComputeHash(), [], TimeProvider.System,
            new LoggerFactory([Logs]));
        return (new ClusterReloader(settings.BindClusterFile(), host, Logs.CreateLogger<ClusterReloader>()), host, path);
    }

    private static DaemonSettings Load(string path, string self)
    {
        using var errors = new StringWriter();
        var settings = DaemonSettingsLoader.Load(
            new DaemonArguments
            {
                ClusterFile = path, NodeName = self, AdminSocket = "unused.sock", DataPlane = DataPlaneMode.Off,
                StateDirectory = Path.Combine(Path.GetDirectoryName(path)!, "state-" + self),
            },
            1,
            null,
            errors);
        Assert.IsNotNull(settings, errors.ToString());
        return settings;
    }
}

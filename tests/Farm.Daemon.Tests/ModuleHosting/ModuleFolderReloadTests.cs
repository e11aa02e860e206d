using Farm.Protocol.V1;
using Step = Farm.Daemon.ModuleHosting.ModuleFolderReload.Step;

namespace Farm.Daemon.Tests.ModuleHosting;

/// <summary>
/// <c>farmctl module reload</c>: what a reading of the modules folder does to each module (<see cref="ModuleFolderReload.Plan"/>),
/// and the whole path on an in-process node (data plane off): a folder copied by hand is loaded, an edited farm.yaml
/// reloads its module only, a broken one is refused while the module runs on, a deleted folder unloads its module.
/// </summary>
[TestClass]
public sealed class ModuleFolderReloadTests() : LoggedTempDirectoryTest("farmd-folder-reload-")
{
    private static readonly (string File, ClusterConfig Config) Cluster = ("cluster.yaml", new ClusterConfig
    {
        Name = "c",
        Key = TestClusterFiles.Key,
        Nodes = [new NodeConfig { Name = "n1", Addresses = [IPAddress.Parse("198.18.0.1")] }, new NodeConfig { Name = "n2", Addresses = [IPAddress.Parse("198.18.0.2")] }],
    });

    [TestMethod]
    [DataRow("new", null, "web", nameof(Step.Load), DisplayName = "a new folder is loaded")]
    [DataRow("same", "same", "web", nameof(Step.Unchanged), DisplayName = "the farm.yaml it runs is left alone")]
    [DataRow("edited", "same", "web", nameof(Step.Reload), DisplayName = "an edited farm.yaml reloads")]
    [DataRow("moved", "same", "web", nameof(Step.Reload), DisplayName = "a link to another folder reloads")]
    [DataRow("broken", "same", "web", nameof(Step.Refused), DisplayName = "a broken farm.yaml is refused, its module not unloaded")]
    [DataRow("untrusted", "same", "web", nameof(Step.Refused), DisplayName = "a folder not root's own is refused")]
    [DataRow("gone", "same", "web", nameof(Step.Unload), DisplayName = "a module without a folder is unloaded")]
    [DataRow("vip-of-a-node", null, "web", nameof(Step.Refused), DisplayName = "a VIP that is a node's address is refused")]
    public void Plan_OneFolder_StepAsExpected(string folder, string? loadedAs, string module, string step)
    {
        var expected = Enum.Parse<Step>(step);
        string text = Yaml(module, vip: folder == "vip-of-a-node" ? "198.18.0.2" : "198.18.100.1", seed: folder == "edited" ? 7 : 1);
        var found = folder switch
        {
            "gone" => [],
            "broken" => [new ModuleFolders.Found("/m/web/farm.yaml", "/m/web", "module: [", null, ["/m/web/farm.yaml:1:9: error: bad"], null)],
            _ => new[] { Found(folder == "moved" ? "/m/.versions/web/2" : "/m/web", text, untrusted: folder == "untrusted" ? "its files are not root's own: bin/start_both is writable by others" : null) },
        };
        var loaded = loadedAs is null ? [] : new Dictionary<string, ModuleFolderReload.Loaded> { [module] = Loaded("/m/web", Yaml(module)) };

        var decision = ModuleFolderReload.Plan(found, loaded, only: null, allowUntrusted: false, Cluster).Single();

        Assert.AreEqual((module, expected), (decision.Module, decision.Step), decision.ToString());
        Assert.AreEqual(expected is Step.Load or Step.Reload, decision.Folder is not null, "only a load or a reload names a folder to run");
    }

    [TestMethod]
    public void Plan_UntrustedAllowed_Loaded()
    {
        var decision = ModuleFolderReload.Plan([Found("/m/web", Yaml("web"), untrusted: "not root's own")], new Dictionary<string, ModuleFolderReload.Loaded>(), null, allowUntrusted: true, Cluster).Single();

        Assert.AreEqual(Step.Load, decision.Step);
    }

    [TestMethod]
    public void Plan_NewFolderTakesARunningModulesVip_RefusedTheRunningOneUnchanged()
    {
        var loaded = new Dictionary<string, ModuleFolderReload.Loaded> { ["web"] = Loaded("/m/web", Yaml("web")) };
        var found = new[] { Found("/m/web", Yaml("web")), Found("/m/api", Yaml("api")) };

        var plan = ModuleFolderReload.Plan(found, loaded, null, false, Cluster);

        Assert.AreEqual(Step.Unchanged, plan.Single(d => d.Module == "web").Step);
        var api = plan.Single(d => d.Module == "api");
        Assert.AreEqual(Step.Refused, api.Step);
        StringAssert.Contains(api.Why, "198.18.100.1");
    }

    [TestMethod]
    public void Plan_TwoFoldersOneName_BothRefused()
    {
        var plan = ModuleFolderReload.Plan([Found("/m/web", Yaml("web")), Found("/m/web-copy", Yaml("web"))], new Dictionary<string, ModuleFolderReload.Loaded>(), null, false, Cluster);

        Assert.HasCount(2, plan);
        Assert.IsTrue(plan.All(d => d.Step == Step.Refused && d.Why.Contains("give every module its own name", StringComparison.Ordinal)), string.Join("\n", plan));
    }

    [TestMethod]
    public void Plan_OneModuleNamed_OnlyItsStep()
    {
        var loaded = new Dictionary<string, ModuleFolderReload.Loaded> { ["web"] = Loaded("/m/web", Yaml("web")), ["old"] = Loaded("/m/old", Yaml("old", vip: "198.18.100.9")) };
        var found = new[] { Found("/m/web", Yaml("web", seed: 9)), Found("/m/api", Yaml("api", vip: "198.18.100.2")) };

        var web = ModuleFolderReload.Plan(found, loaded, "web", false, Cluster);
        var unknown = ModuleFolderReload.Plan(found, loaded, "nope", false, Cluster);

        Assert.AreEqual(("web", Step.Reload), (web.Single().Module, web.Single().Step), "api is not loaded and old is not unloaded");
        Assert.AreEqual(Step.Refused, unknown.Single().Step);
        StringAssert.Contains(unknown.Single().Why, "no such module");
    }

    [TestMethod]
    public async Task Reload_FolderCopiedEditedBrokenDeleted_LoadsReloadsKeepsAndUnloadsTheOtherUntouched()
    {
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", TestClusterFiles.FreePort());
        string modules = Path.Combine(Dir, "modules");
        var other = TestClusterFiles.WriteModule(modules, "other", buckets: 256, vip: "198.18.100.2");
        await using var node = await InProcessNode.StartAsync(
            clusterFile, "n1", Dir, Logs, [other], new Dictionary<string, string> { ["other"] = Path.Combine(modules, "other") }, modulesDirectory: modules);
        using var admin = FarmdAdminClient.ForSocket(node.Socket);
        var otherSince = await UpSinceAsync(node, "other");

        var nothing = await ReloadAsync(admin);
        Assert.AreEqual(("", "folder read", "other: unchanged"), (nothing.Error, nothing.Outcome, nothing.Detail));

        // A folder copied by hand: loaded and started, other untouched.
        TestClusterFiles.WriteModule(modules, "api", buckets: 256, vip: "198.18.100.3");
        var loaded = await ReloadAsync(admin);
        Assert.AreEqual("", loaded.Error, loaded.ToString());
        StringAssert.Contains(loaded.Detail, "api: loaded: started (UP/Ready)");
        StringAssert.Contains(loaded.Detail, "other: unchanged");
        await UpSinceAsync(node, "api");

        // Its farm.yaml edited (more buckets: the table changes): reloaded live, with the new definition.
        string apiFile = Path.Combine(modules, "api", "farm.yaml");
        File.WriteAllText(apiFile, File.ReadAllText(apiFile).Replace("buckets: 256", "buckets: 512", StringComparison.Ordinal));
        var edited = await ReloadAsync(admin, "api");
        Assert.AreEqual("", edited.Error, edited.ToString());
        StringAssert.StartsWith(edited.Detail, "api: reloaded: drained, stopped, swapped (buckets changed: data plane rebuilt), started (UP/Ready)");
        Assert.AreEqual(512, node.Node.Modules.Modules.Single(m => m.Name == "api").Buckets);

        // Broken: refused, api keeps running its last good definition.
        File.WriteAllText(apiFile, "module:\n  name: api\n  buckets: 3\n");
        var broken = await ReloadAsync(admin);
        StringAssert.Contains(broken.Error, "api: ");
        StringAssert.Contains(broken.Error, "farm.yaml");
        Assert.AreEqual(512, node.Node.Modules.Modules.Single(m => m.Name == "api").Buckets);
        Assert.AreEqual(ModuleRunState.Up, (await admin.GetStatusAsync()).Modules.Single(m => m.Module == "api").State);

        // Deleted: drained, stopped, unloaded.
        Directory.Delete(Path.Combine(modules, "api"), recursive: true);
        var deleted = await ReloadAsync(admin);
        Assert.AreEqual("", deleted.Error, deleted.ToString());
        StringAssert.Contains(deleted.Detail, "api: drained, stopped and unloaded");
        CollectionAssert.AreEqual(new[] { "other" }, node.Node.Modules.Loaded().Keys.ToArray());
        Assert.AreEqual(otherSince, await UpSinceAsync(node, "other"), "other never restarted");
    }

    private static async Task<ModulePackageResult> ReloadAsync(FarmdAdminClient admin, string module = "")
    {
        var query = new ModulePackageQuery { Action = ModulePackageAction.Reload, Module = module, RequestedBy = "test" };
        var reply = await admin.Client.ManageModulePackageAsync(new ModulePackageRequest { Query = query }).ResponseAsync.WithTimeout(TimeSpan.FromSeconds(60));
        return reply.Answer.Results.Single();
    }

    private static Task<DateTimeOffset> UpSinceAsync(InProcessNode node, string module) => Poll.UntilAsync(
        () => Task.FromResult(node.Node.Modules.Snapshot().Single(m => m.Config.Name == module).Status),
        s => s.State == Farm.Modules.ModuleState.Up,
        module + " up",
        TimeSpan.FromSeconds(20),
        CancellationToken.None).ContinueWith(t => t.Result.Since, TaskScheduler.Default);

    private static ModuleFolders.Found Found(string folder, string text, string? untrusted = null)
    {
        var parsed = ConfigParser.ParseModule(text, folder + "/farm.yaml");
        Assert.IsNotNull(parsed.Value, string.Join("\n", parsed.Errors));
        return new ModuleFolders.Found(folder + "/farm.yaml", folder, text, parsed.Value, [], untrusted);
    }

    private static ModuleFolderReload.Loaded Loaded(string folder, string text) => new(Found(folder, text).Module!, folder, text);

    private static string Yaml(string name, string vip = "198.18.100.1", int seed = 1) =>
        $"module:\n  name: {name}\n  vips: [{vip}]\n  interface: eth0\n  buckets: 256\n  seed: {seed}\n  rules:\n    - {{ protocol: tcp, ports: 80 }}\n";
}

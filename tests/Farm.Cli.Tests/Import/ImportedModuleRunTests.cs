using Farm.Modules;
using Microsoft.Extensions.Logging.Abstractions;
using static Farm.Cli.Tests.Import.ImportTestData;

namespace Farm.Cli.Tests.Import;

/// <summary>An imported SafeKit module run by Farm's own module manager: real scripts, real checkers, no data plane.</summary>
[TestClass]
public sealed class ImportedModuleRunTests
{
    [TestMethod]
    public async Task ModuleManager_ImportedSafeKitModule_StartsWithSafeKitsArgumentsPassesItsCheckersAndStops()
    {
        using var temp = new TempFolder();
        string calls = temp.Combine("calls");
        File.WriteAllText(temp.Combine("app-ok"), "");
        string xml = $"""
            <!DOCTYPE safe>
            <safe>
              <service mode="farm" boot="on">
                <farm><lan name="default"/></farm>
                <vip>
                  <interface_list>
                    <interface check="on" name="lo">
                      <virtual_interface type="vmac_invisible">
                        <virtual_addr addr="198.18.100.81" where="alias"/>
                      </virtual_interface>
                    </interface>
                  </interface_list>
                  <loadbalancing_list>
                    <group name="APP"><rule port="80" proto="tcp" filter="on_addr"/></group>
                  </loadbalancing_list>
                </vip>
                <check>
                  <custom ident="AppChecker" when="both" exec="appcheck" arg="{temp.Combine("app-ok")}" action="restart"/>
                </check>
                <user nicestoptimeout="20s" forcestoptimeout="5s">
                  <var name="SERVICES" value="app"/>
                </user>
              </service>
            </safe>
            """;
        string recorder = $"#!/bin/sh\necho \"$(basename \"$0\") $# $* $SERVICES\" >>'{calls}'\n";
        string checker = "#!/bin/sh\nwhile :; do\n  if [ -e \"$1\" ]; then safekit set -r custom.AppChecker -v up; else safekit set -r custom.AppChecker -v down; fi\n  sleep 10\ndone\n";
        string module = ImportSafeKitModule(temp, xml, ("prestart", recorder), ("start_both", recorder), ("stop_both", recorder), ("poststop", recorder), ("appcheck", checker));
        File.WriteAllText(Path.Combine(module, "safekit", "env.local"), $"SAFEVAR='{temp.Combine("var")}'\n");
        var parsed = ConfigParser.ParseModule(File.ReadAllText(Path.Combine(module, "farm.yaml")), "farm.yaml");
        Assert.IsNotNull(parsed.Value, string.Join('\n', parsed.Errors));
        var options = new ModuleHostOptions { NodeName = "node1", ModuleDirectory = module };
        await using var manager = ModuleManager.Create(parsed.Value, options, new OpenGate(), TimeProvider.System, NullLoggerFactory.Instance);

        manager.Start("boot");
        var up = await manager.WaitForStatusAsync(s => s.IsReadyForTraffic || (s.IsStopped && s.SubState == ModuleSubState.NotReady), CancellationToken.None).WithTimeout(TimeSpan.FromSeconds(30));
        var stopped = await manager.StopAndWaitAsync("admin stop", CancellationToken.None).WithTimeout(TimeSpan.FromSeconds(30));

        Assert.IsTrue(up.IsReadyForTraffic, up.ToString());
        Assert.IsTrue(up.Checkers.All(c => c.Up == true), string.Join("; ", up.Checkers));
        Assert.IsTrue(stopped.IsStopped, stopped.ToString());
        CollectionAssert.AreEqual(
            new[] { "prestart 3 STOP UP start app", "start_both 3 STOP UP start app", "stop_both 3 UP STOP stop app", "poststop 3 UP STOP stop app" },
            File.ReadAllLines(calls));
        Assert.IsTrue(Directory.Exists(temp.Combine("var", "modules", "web")), "SAFEUSERVAR is made under the SAFEVAR of safekit/env.local");
    }

    /// <summary>The traffic gate of a node alone: opening and closing complete at once.</summary>
    private sealed class OpenGate : IModuleTrafficGate
    {
        public long Epoch => 1;

        public Task OpenAsync(string moduleName, string reason, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task CloseAsync(string moduleName, string reason, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task SetPrimaryAsync(string moduleName, bool primary, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

using System.Text.RegularExpressions;

namespace Farm.Cli.Tests.Status;

[TestClass]
public sealed class StatusTableTests
{
    [TestMethod]
    public void Render_FixedReport_OneRowPerNodeWithStateShareReachabilityAndConfig()
    {
        string text = Render(CliTerminal.Redirected);
        var lines = text.Split('\n');

        Assert.AreEqual("Cluster demo as seen by n1 (incarnation 1764000000001), view epoch 7 by n1, config 6e16e2abcc40 version 0", lines[0]);
        StringAssert.Matches(lines[1], new Regex(@"^NODE\s+STATE\s+INCARNATION\s+VIEW\s+WEIGHT\s+WEB\s+LAN default\s+CONFIG\s*$"));
        AssertRow(lines, "n1 *", @"up\s+1764000000001\s+yes\s+100\s+ready 50\.00% 2048/4096 \+12 in\s+198\.18\.0\.1\s+same");
        AssertRow(lines, "n2 ", @"up\s+1764000000002\s+yes\s+100\s+ready 50\.00% 2048/4096\s+198\.18\.0\.2 up 40ms ago\s+same");
        AssertRow(lines, "n3 ", @"down\s+1764000000003\s+no\s+100\s+unknown 0\.00% 0/4096\s+198\.18\.0\.3 down 12\.3s ago\s+same");
        AssertRow(lines, "n4 ", @"excluded\s+-\s+no\s+100\s+unknown 0\.00% 0/4096\s+198\.18\.0\.4 never heard\s+differs 1a2b3c4d5e6f");
    }

    [TestMethod]
    public void Render_DrainedSelfAndDrainingPeer_ShowTheDrainStateAndTheHandOver()
    {
        var lines = RenderRedirected(report =>
        {
            report.ConfigVersion = 4;
            report.Leaving = true;
            var n1 = report.Nodes[0];
            n1.Leaving = true;
            n1.DrainState = Farm.Protocol.V1.DrainState.Drained;
            n1.Buckets[0].Buckets = 0;
            n1.Buckets[0].Incoming = 0;
            StatusSamples.DrainN2(report);
            report.Nodes[2].Leaving = true; // a node that only stops: no drain state
        }).Split('\n');

        StringAssert.StartsWith(lines[0], "Cluster demo as seen by n1 (incarnation 1764000000001, drained), view epoch 7 by n1, config 6e16e2abcc40 version 4");
        AssertRow(lines, "n1 *", @"^n1 \*\s+up, drained\s+1764000000001\s+yes\s+100\s+ready 0\.00% 0/4096\s+198");
        AssertRow(lines, "n2 ", @"^n2\s+up, draining\s+1764000000002\s+yes\s+100\s+ready 0\.00% 0/4096 -40 out \(oldest 1\.2s\)\s+198");
        AssertRow(lines, "n3 ", @"^n3\s+down, leaving\s+");
    }

    [TestMethod]
    public void Render_ModuleMismatch_NamesModuleNodeSettingsAndTheFix()
    {
        string text = RenderRedirected(report => report.ModuleMismatches.Add(
            new Farm.Protocol.V1.ModuleMismatch { Module = "web", Node = "n2", TheirHash = StatusSamples.TheirHash, AgreedHash = StatusSamples.OurHash, Settings = { "seed", "buckets" } }));

        StringAssert.Contains(text, "Module web differs on n2: seed, buckets");
        StringAssert.Contains(text, "it gets none of the module's buckets");
        StringAssert.Contains(text, "then 'farmctl module reload web' there");
    }

    [TestMethod]
    public void Render_FixedReport_ListsBothHashesAndTheRejectionCounters()
    {
        string text = Render(CliTerminal.Redirected);

        StringAssert.Contains(text, $"Config differs on n4: theirs {StatusSamples.TheirHash}, ours {StatusSamples.OurHash}");
        StringAssert.Contains(text, "Rejected messages:");
        StringAssert.Matches(text, new Regex(@"127\.0\.0\.1\s+bad_mac\s+3\s+n2"));
        StringAssert.Matches(text, new Regex(@"reply from n3\s+replayed\s+1"));
    }

    [TestMethod]
    public void Render_Redirected_HasNoEscapeSequencesAndNoBoxDrawing()
    {
        string text = Render(CliTerminal.Redirected);
        Assert.IsFalse(text.Contains('\u001b'), "no ANSI escapes when output is redirected");
        Assert.IsFalse(text.Any(c => c is >= '\u2500' and <= '\u257f'), "no box-drawing characters when output is redirected");
    }

    [TestMethod]
    public void Render_Terminal_DrawsBordersAndColors()
    {
        string? noColor = Environment.GetEnvironmentVariable("NO_COLOR");
        Environment.SetEnvironmentVariable("NO_COLOR", null);
        try
        {
            string text = Render(new CliTerminal(true, 200, true));
            Assert.IsTrue(text.Contains('\u001b'), "colors on a terminal");
            Assert.IsTrue(text.Contains('╭'), "rounded borders on a terminal");
        }
        finally
        {
            Environment.SetEnvironmentVariable("NO_COLOR", noColor);
        }
    }

    [TestMethod]
    public void Render_NoViewAndNoRejections_SaysSo()
    {
        string text = RenderRedirected(report =>
        {
            report.InstalledEpoch = 0;
            report.Coordinator = "";
            report.Rejected.Clear();
        });
        StringAssert.Contains(text, "no view installed yet");
        StringAssert.Contains(text, "Rejected messages: none");
    }

    [TestMethod]
    [DataRow(0L, "0ms")]
    [DataRow(999L, "999ms")]
    [DataRow(1_000L, "1.0s")]
    [DataRow(59_949L, "59.9s")]
    [DataRow(245_000L, "4m05s")]
    [DataRow(7_800_000L, "2h10m")]
    [DataRow(273_600_000L, "3d04h")]
    public void Age_Milliseconds_ReadableUnit(long milliseconds, string expected) =>
        Assert.AreEqual(expected, StatusFormat.Age(milliseconds));

    private static string Render(CliTerminal terminal, Farm.Protocol.V1.NodeStatusReport? report = null)
    {
        using var output = new StringWriter { NewLine = "\n" };
        StatusTable.Render(terminal.CreateConsole(output), report ?? StatusSamples.Report());
        return output.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    /// <summary>Renders, for redirected output, the sample report after <paramref name="change"/>.</summary>
    private static string RenderRedirected(Action<Farm.Protocol.V1.NodeStatusReport> change)
    {
        var report = StatusSamples.Report();
        change(report);
        return Render(CliTerminal.Redirected, report);
    }

    /// <summary>Asserts that the one row starting with <paramref name="prefix"/> matches <paramref name="pattern"/>.</summary>
    private static void AssertRow(string[] lines, string prefix, string pattern) =>
        StringAssert.Matches(Row(lines, prefix), new Regex(pattern));

    private static string Row(string[] lines, string prefix) =>
        lines.SingleOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)) ?? throw new AssertFailedException($"no row starting with '{prefix}' in:\n{string.Join('\n', lines)}");
}

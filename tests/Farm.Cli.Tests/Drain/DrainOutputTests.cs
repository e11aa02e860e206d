using Farm.Cli.Drain;
using Farm.Protocol.V1;

namespace Farm.Cli.Tests.Drain;

[TestClass]
public sealed class DrainOutputTests
{
    [TestMethod]
    public void Text_EveryAnswer_SaysWhatChanged()
    {
        Assert.AreEqual("n2: drain started; the other nodes take its buckets, it serves the connections it has until they drained (now draining)",
            DrainOutput.Text(new DrainAnswer { Node = "n2", Changed = true, State = DrainState.Draining }, DrainAction.Drain));
        Assert.AreEqual("n2 is already drained, nothing changed (now drained)",
            DrainOutput.Text(new DrainAnswer { Node = "n2", State = DrainState.Drained }, DrainAction.Drain));
        Assert.AreEqual("n2 resumed: it takes its share of the buckets again", DrainOutput.Text(new DrainAnswer { Node = "n2", Changed = true }, DrainAction.Resume));
        Assert.AreEqual("n2 was not drained, nothing changed", DrainOutput.Text(new DrainAnswer { Node = "n2" }, DrainAction.Resume));
        Assert.AreEqual("n2: resume failed: cannot reach n2: 198.18.0.2:9400: connection refused",
            DrainOutput.Text(new DrainAnswer { Node = "n2", Error = "cannot reach n2: 198.18.0.2:9400: connection refused" }, DrainAction.Resume));
        StringAssert.EndsWith(
            DrainOutput.Text(new DrainAnswer { Node = "n1", Changed = true, Warning = "no other node serves web now" }, DrainAction.Drain),
            "\nwarning: no other node serves web now");
    }

    [TestMethod]
    public void Verdict_ByTheNodesOwnState_DrainedGoesOnOrEnds()
    {
        var elapsed = TimeSpan.FromMilliseconds(3400);
        var drained = DrainOutput.Verdict(new DrainAnswer { Node = "n2", State = DrainState.Drained }, elapsed)!;
        Assert.AreEqual((true, "n2 is drained after 3.4s: no bucket owned, incoming or draining; safe to stop for maintenance"), (drained.Drained, drained.Message));
        Assert.IsNull(DrainOutput.Verdict(new DrainAnswer { Node = "n2", State = DrainState.Draining }, elapsed), "still draining: wait on");
        Assert.IsFalse(DrainOutput.Verdict(new DrainAnswer { Node = "n2", State = DrainState.None }, elapsed)!.Drained, "resumed meanwhile");
        StringAssert.Contains(DrainOutput.Verdict(new DrainAnswer { Node = "n2", Error = "cannot reach n2" }, elapsed)!.Message, "cannot be followed: cannot reach n2");
    }

    [TestMethod]
    public void Describe_Progress_CountsAndOldestDrainInWholeSeconds()
    {
        Assert.AreEqual("1 bucket owned, 0 incoming, 0 draining", new DrainProgressLine(1, 0, 0, null).Describe());
        Assert.AreEqual("0 buckets owned, 0 incoming, 12 draining (oldest drain 2.0s)", new DrainProgressLine(0, 0, 12, 2_740).Describe());
    }

    [TestMethod]
    public void Json_WithAndWithoutWait_HasTheDocumentedFields()
    {
        var answer = new DrainAnswer { Node = "n2", Changed = true, State = DrainState.Draining };
        using (var doc = JsonDocument.Parse(DrainOutput.Json(answer, DrainAction.Drain, null)))
        {
            CollectionAssert.AreEqual(new[] { "node", "action", "changed", "state", "error", "warning", "wait" }, doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray());
            Assert.AreEqual(JsonValueKind.Null, doc.RootElement.GetProperty("wait").ValueKind);
        }

        var waited = new DrainWaitOutcome(true, TimeSpan.FromMilliseconds(2500), "n2 is drained after 2.5s");
        using (var doc = JsonDocument.Parse(DrainOutput.Json(answer, DrainAction.Drain, waited)))
        {
            var wait = doc.RootElement.GetProperty("wait");
            Assert.AreEqual(("drained", true, 2500L), (doc.RootElement.GetProperty("state").GetString(), wait.GetProperty("drained").GetBoolean(), wait.GetProperty("elapsed_ms").GetInt64()));
        }
    }

    [TestMethod]
    [DataRow(600_000L, "10m")]
    [DataRow(30_000L, "30s")]
    [DataRow(3_400L, "3.4s")]
    public void Duration_Span_ReadableLikeTheConfigSyntax(long milliseconds, string expected) =>
        Assert.AreEqual(expected, DrainOutput.Duration(TimeSpan.FromMilliseconds(milliseconds)));
}

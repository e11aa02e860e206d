namespace Farm.Cluster.Tests;

[TestClass]
public sealed class RequestLedgerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    [TestMethod]
    public void TakeOutbox_AfterSends_ReturnsThemInOrderOnce()
    {
        var ledger = new RequestLedger();
        ledger.Send("n02", 0, new GetViewRequest(), TimeSpan.Zero);
        ledger.Send("n03", 1, new GetViewRequest(), TimeSpan.Zero);

        var first = ledger.TakeOutbox();
        var second = ledger.TakeOutbox();

        CollectionAssert.AreEqual(new[] { "n02", "n03" }, first.Select(r => r.To).ToArray());
        Assert.AreEqual(1, first[1].Lan);
        Assert.IsTrue(first[0].CorrelationId < first[1].CorrelationId);
        Assert.AreEqual(0, second.Count);
    }

    [TestMethod]
    public void TryComplete_SecondAnswer_IsRefused()
    {
        var ledger = new RequestLedger();
        ledger.Send("n02", 0, new GetViewRequest(), TimeSpan.FromSeconds(5));
        long id = ledger.TakeOutbox()[0].CorrelationId;

        Assert.IsTrue(ledger.TryComplete(id, out var pending));
        Assert.AreEqual(TimeSpan.FromSeconds(5), pending.SentAt);
        Assert.IsFalse(ledger.TryComplete(id, out _));
    }

    [TestMethod]
    public void Expired_RequestAsOldAsTheTimeout_IsListedYoungerIsNot()
    {
        var ledger = new RequestLedger();
        ledger.Send("n02", 0, new GetViewRequest(), TimeSpan.Zero);
        ledger.Send("n03", 0, new GetViewRequest(), TimeSpan.FromMilliseconds(500));
        var sent = ledger.TakeOutbox();

        Assert.IsNull(ledger.Expired(Timeout - TimeSpan.FromTicks(1), Timeout));
        CollectionAssert.AreEqual(new[] { sent[0].CorrelationId }, ledger.Expired(Timeout, Timeout));
    }

    [TestMethod]
    public void Send_QuietHeartbeat_IsSentButAwaitsNoAnswer()
    {
        var ledger = new RequestLedger();
        var self = new MemberInfo("n01", 1, 100, 0, false, []);
        ledger.Send("n02", 0, new HeartbeatRequest(self, "cfg", null, null, Quiet: true), TimeSpan.Zero);
        ledger.Send("n02", 0, new HeartbeatRequest(self, "cfg", null, null), TimeSpan.Zero);
        var sent = ledger.TakeOutbox();

        Assert.AreEqual(2, sent.Count);
        CollectionAssert.AreEqual(new[] { sent[1].CorrelationId }, ledger.Expired(Timeout, Timeout), "only the heartbeat that asked an answer can time out");
        Assert.IsFalse(ledger.TryComplete(sent[0].CorrelationId, out _), "an answer to a quiet heartbeat (an older peer's) is ignored");
        Assert.IsTrue(ledger.TryComplete(sent[1].CorrelationId, out _));
    }
}

namespace Farm.Daemon.Tests.Heartbeat;

[TestClass]
public sealed class HeartbeatOrderTests
{
    [TestMethod]
    public void IsNewest_LaterHeartbeatOfTheSameRunSeenFirst_EarlierOneIsNot()
    {
        var order = new HeartbeatOrder();

        Assert.IsTrue(order.IsNewest("n2", 5, 10));
        Assert.IsTrue(order.IsNewest("n2", 5, 12), "the datagram that overtook");
        Assert.IsFalse(order.IsNewest("n2", 5, 11), "the stream item it overtook");
        Assert.IsTrue(order.IsNewest("n3", 5, 11), "each sender on its own");
    }

    [TestMethod]
    public void IsNewest_SenderRunsANewProcess_ItsSeqsStartOver()
    {
        var order = new HeartbeatOrder();
        Assert.IsTrue(order.IsNewest("n2", 5, 900));

        Assert.IsTrue(order.IsNewest("n2", 6, 1));
        Assert.IsTrue(order.IsNewest("n2", 6, 2));
    }
}

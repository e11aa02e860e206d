namespace Farm.Core.Tests.Config;

/// <summary><c>cluster.console_users</c>: the web console's users file.</summary>
[TestClass]
public sealed class ConsoleUsersKeyTests
{
    private static string With(string line) => ConfigSamples.MinimalCluster.Replace("  nodes:", line + "\n  nodes:", StringComparison.Ordinal);

    [TestMethod]
    public void ParseCluster_NoConsoleUsers_DefaultPathAndNotInTheHash()
    {
        var plain = ConfigAssert.ValidCluster(ConfigSamples.MinimalCluster);
        var other = ConfigAssert.ValidCluster(With("  console_users: /srv/farm/users"));

        Assert.AreEqual("/etc/farm/console-users", plain.ConsoleUsers);
        Assert.AreEqual("/srv/farm/users", other.ConsoleUsers);
        Assert.AreEqual(plain.ComputeHash(), other.ComputeHash(), "each node may keep its users file elsewhere");
    }

    [TestMethod]
    public void ParseCluster_RelativeConsoleUsers_LocatedError()
    {
        var result = ConfigAssert.Cluster(With("  console_users: users.txt"));

        ConfigAssert.SingleError(result, 4, 18, "cluster.console_users 'users.txt' is not an absolute path");
    }
}

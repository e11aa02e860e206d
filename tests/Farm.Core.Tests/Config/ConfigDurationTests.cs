namespace Farm.Core.Tests.Config;

[TestClass]
public sealed class ConfigDurationTests
{
    [TestMethod]
    [DataRow("100ms", 100L)]
    [DataRow("1s", 1_000L)]
    [DataRow("2m", 120_000L)]
    [DataRow("24h", 86_400_000L)]
    [DataRow("0s", 0L)]
    [DataRow(" 5s ", 5_000L)]
    public void TryParse_ValidDuration_ReturnsMilliseconds(string text, long expectedMs)
    {
        Assert.IsTrue(ConfigDuration.TryParse(text, out var value, out var error), error);
        Assert.AreEqual(TimeSpan.FromMilliseconds(expectedMs), value);
        Assert.IsNull(error);
    }

    [TestMethod]
    public void TryParse_UnknownUnit_FailsNamingTheUnit()
    {
        Assert.IsFalse(ConfigDuration.TryParse("5sec", out _, out var error));
        StringAssert.Contains(error, "unknown unit 'sec'");
    }

    [TestMethod]
    public void TryParse_NumberWithoutUnit_FailsSayingUnitMissing()
    {
        Assert.IsFalse(ConfigDuration.TryParse("100", out _, out var error));
        StringAssert.Contains(error, "has no unit");
    }

    [TestMethod]
    [DataRow("fast")]
    [DataRow("-1s")]
    [DataRow("1.5s")]
    [DataRow("1m30s")]
    [DataRow("")]
    [DataRow("99999999999999999999s")]
    [DataRow("256204779h")]
    [DataRow("922337203685478ms")]
    public void TryParse_Malformed_Fails(string text)
    {
        Assert.IsFalse(ConfigDuration.TryParse(text, out _, out var error));
        Assert.IsNotNull(error);
    }

    [TestMethod]
    [DataRow("256204779h")]
    [DataRow("15372286729m")]
    [DataRow("922337203686s")]
    [DataRow("922337203685478ms")]
    [DataRow("99999999999999999999999h")]
    public void TryParse_BeyondTimeSpan_FailsAsTooLargeWithoutThrowing(string text)
    {
        Assert.IsFalse(ConfigDuration.TryParse(text, out _, out var error));
        StringAssert.Contains(error, "is too large");
    }

    [TestMethod]
    [DataRow("256204778h")]
    [DataRow("922337203685477ms")]
    [DataRow("99999999999s")]
    public void TryParse_LargestTimeSpans_ParseExactly(string text)
    {
        Assert.IsTrue(ConfigDuration.TryParse(text, out var value, out var error), error);
        Assert.IsTrue(value > TimeSpan.FromDays(365 * 3000), value.ToString());
    }

    [TestMethod]
    [DataRow(100L, "100ms")]
    [DataRow(1_500L, "1500ms")]
    [DataRow(1_000L, "1s")]
    [DataRow(90_000L, "90s")]
    [DataRow(120_000L, "2m")]
    [DataRow(86_400_000L, "24h")]
    public void Format_Duration_UsesLargestExactUnitAndRoundTrips(long ms, string expected)
    {
        string text = ConfigDuration.Format(TimeSpan.FromMilliseconds(ms));
        Assert.AreEqual(expected, text);
        Assert.IsTrue(ConfigDuration.TryParse(text, out var back, out _));
        Assert.AreEqual(TimeSpan.FromMilliseconds(ms), back);
    }
}

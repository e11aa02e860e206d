using Farm.Rpc.Protocol;

namespace Farm.Rpc.Tests.Protocol;

[TestClass]
public sealed class GrpcTimeoutTests
{
    [TestMethod]
    [DataRow("1H", 36_000_000_000L)]
    [DataRow("2M", 1_200_000_000L)]
    [DataRow("3S", 30_000_000L)]
    [DataRow("250m", 2_500_000L)]
    [DataRow("100u", 1_000L)]
    [DataRow("1n", 1L)]
    [DataRow("1000n", 10L)]
    [DataRow("99999999H", 99_999_999L * 36_000_000_000L)]
    public void TryParse_ValidValue_ReturnsTimeout(string header, long expectedTicks)
    {
        bool parsed = GrpcTimeout.TryParse(header, out TimeSpan timeout);

        Assert.IsTrue(parsed);
        Assert.AreEqual(expectedTicks, timeout.Ticks);
    }

    [TestMethod]
    [DataRow("")]
    [DataRow("S")]
    [DataRow("123456789S")]
    [DataRow("10x")]
    [DataRow("-1S")]
    [DataRow("1.5S")]
    [DataRow(" 1S")]
    [DataRow("10s")]
    public void TryParse_InvalidValue_ReturnsFalse(string header)
    {
        Assert.IsFalse(GrpcTimeout.TryParse(header, out _));
    }

    [TestMethod]
    [DataRow(5L, "500n")]
    [DataRow(2_500_000L, "250000u")]
    [DataRow(2_000_000_000L, "200000m")]
    [DataRow(3_000_000_000_000L, "300000S")]
    public void Format_Timeout_UsesFinestUnitThatFitsEightDigits(long ticks, string expected)
    {
        Assert.AreEqual(expected, GrpcTimeout.Format(TimeSpan.FromTicks(ticks)));
    }

    [TestMethod]
    public void Format_ThenParse_NeverShortensTheTimeout()
    {
        var random = new Random(1234);
        for (int i = 0; i < 10_000; i++)
        {
            long ticks = (long)(Math.Pow(10, random.NextDouble() * 17) + 1);
            TimeSpan original = TimeSpan.FromTicks(ticks);

            string header = GrpcTimeout.Format(original);

            Assert.IsTrue(header.Length <= 9, header);
            Assert.IsTrue(GrpcTimeout.TryParse(header, out TimeSpan parsed), header);
            Assert.IsTrue(parsed >= original, $"{original} became {header}");
        }
    }
}

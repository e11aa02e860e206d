namespace Farm.EndToEnd.Tests.Harness;

[TestClass]
public sealed class LatencyHistogramTests
{
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(100);

    [TestMethod]
    public void Summarize_NothingRecorded_Empty()
    {
        Assert.AreEqual(LatencySummary.Empty, new LatencyHistogram(Slice).Summarize());
    }

    [TestMethod]
    public void Summarize_OneToThousandMilliseconds_PercentilesAtMostOneBucketAboveTheTruth()
    {
        var histogram = new LatencyHistogram(Slice);
        for (int ms = 1; ms <= 1000; ms++)
        {
            histogram.Record(TimeSpan.FromMilliseconds(ms), TimeSpan.FromMilliseconds(ms));
        }

        var summary = histogram.Summarize();

        Assert.AreEqual(1000, summary.Count);
        AssertNear(500, summary.P50);
        AssertNear(900, summary.P90);
        AssertNear(990, summary.P99);
        AssertNear(999, summary.P999);
        Assert.AreEqual(TimeSpan.FromMilliseconds(1000), summary.Max);
    }

    [TestMethod]
    public void Summarize_FewMicroseconds_Exact()
    {
        var histogram = new LatencyHistogram(Slice);
        histogram.Record(TimeSpan.Zero, TimeSpan.FromMicroseconds(7));
        histogram.Record(TimeSpan.Zero, TimeSpan.FromMicroseconds(9));

        var summary = histogram.Summarize();

        Assert.AreEqual(TimeSpan.FromMicroseconds(7), summary.P50);
        Assert.AreEqual(TimeSpan.FromMicroseconds(9), summary.P99);
    }

    [TestMethod]
    public void Summarize_Window_CountsOnlyTheSlicesItOverlaps()
    {
        var histogram = new LatencyHistogram(Slice);
        for (int i = 0; i < 10; i++)
        {
            histogram.Record(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(1));
            histogram.Record(TimeSpan.FromMilliseconds(1050), TimeSpan.FromMilliseconds(100));
            histogram.Record(TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(3));
        }

        var early = histogram.Summarize(TimeSpan.Zero, TimeSpan.FromSeconds(1));
        var middle = histogram.Summarize(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        var all = histogram.Summarize();

        Assert.AreEqual(10, early.Count);
        Assert.AreEqual(TimeSpan.FromMilliseconds(1), early.Max);
        Assert.AreEqual(10, middle.Count);
        Assert.AreEqual(TimeSpan.FromMilliseconds(100), middle.P50);
        Assert.AreEqual(30, all.Count);
        Assert.AreEqual(TimeSpan.FromMilliseconds(100), all.Max);
    }

    [TestMethod]
    public async Task Record_ManyThreads_NoCountLost()
    {
        var histogram = new LatencyHistogram(Slice);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                histogram.Record(TimeSpan.FromMilliseconds(i), TimeSpan.FromMicroseconds(i + t));
            }
        })));

        var summary = histogram.Summarize();

        Assert.AreEqual(40_000, summary.Count);
        Assert.AreEqual(TimeSpan.FromMicroseconds(10_002), summary.Max);
    }

    private static void AssertNear(double expectedMs, TimeSpan actual)
    {
        // A percentile is the upper end of its bucket: never below the truth, at most 1/16 above it.
        Assert.IsGreaterThanOrEqualTo(expectedMs, actual.TotalMilliseconds, $"{actual.TotalMilliseconds} ms for {expectedMs} ms");
        Assert.IsLessThanOrEqualTo(expectedMs * 1.0625, actual.TotalMilliseconds, $"{actual.TotalMilliseconds} ms for {expectedMs} ms");
    }
}

namespace Farm.EndToEnd.Tests;

/// <summary>
/// Base of the end-to-end classes whose tests share one farm (<see cref="ClassFarm{T}"/>): the test context, the
/// daemons' output after a test that did not pass, and the farm's disposal at class cleanup. <typeparamref name="TSelf"/>
/// is the derived class, so each one keeps its own farm (a static field of a generic class exists once per type argument).
/// </summary>
/// <typeparam name="TSelf">The derived test class.</typeparam>
public abstract class SharedFarmTests<TSelf>
    where TSelf : SharedFarmTests<TSelf>
{
    private static IClassFarm? shared;

    /// <summary>Takes the derived class's farm (the same instance for every test of that class).</summary>
    private protected SharedFarmTests(IClassFarm farm) => shared = farm;

    /// <summary>Set by MSTest.</summary>
    public TestContext TestContext { get; set; } = null!;

    /// <summary>The running test's cancellation token.</summary>
    protected CancellationToken Ct => TestContext.CancellationToken;

    [TestCleanup]
    public void ReportOnFailure() => shared?.ReportOnFailure(TestContext);

    [ClassCleanup(InheritanceBehavior.BeforeEachDerivedClass)]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1000", Justification = "MSTest runs class cleanup as a static method, once per derived class")]
    public static async Task TearDownAsync()
    {
        if (shared is not null)
        {
            await shared.DisposeAsync();
        }
    }
}

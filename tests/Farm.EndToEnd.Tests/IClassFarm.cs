namespace Farm.EndToEnd.Tests;

/// <summary>What <see cref="SharedFarmTests{TSelf}"/> needs of a class's farm, whatever the farm's type.</summary>
internal interface IClassFarm : IAsyncDisposable
{
    /// <summary>After a test that did not pass: writes everything the farm's daemons printed.</summary>
    void ReportOnFailure(TestContext context);
}

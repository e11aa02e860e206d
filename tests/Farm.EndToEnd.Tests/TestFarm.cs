namespace Farm.EndToEnd.Tests;

/// <summary>The end of a test that built a farm of its own (see <see cref="ClassFarm{T}"/> for one a class shares).</summary>
internal static class TestFarm
{
    /// <summary>Prints the daemons' output after a failed test, then disposes the farm (nothing when none was built).</summary>
    public static async Task EndAsync(FarmFixture? farm, TestContext context)
    {
        if (farm is null)
        {
            return;
        }

        if (context.CurrentTestOutcome != UnitTestOutcome.Passed)
        {
            context.WriteLine(farm.Outputs());
        }

        await farm.DisposeAsync();
    }
}

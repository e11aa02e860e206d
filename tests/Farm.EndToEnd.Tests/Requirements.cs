namespace Farm.EndToEnd.Tests;

/// <summary>Skips (or, on CI, fails) a test whose machine cannot run network namespace tests.</summary>
internal static class Requirements
{
    /// <summary>Set to 1 on CI machines that must run these tests: a missing requirement then fails instead of skipping.</summary>
    public const string RequiredVariable = "FARM_E2E_REQUIRED";

    public static async Task NamespacesAsync(bool needNft)
    {
        string? missing = await NamespaceSupport.GetMissingRequirementAsync(needNft);
        if (missing is null)
        {
            return;
        }

        if (Environment.GetEnvironmentVariable(RequiredVariable) == "1")
        {
            Assert.Fail($"{missing} ({RequiredVariable}=1 forbids skipping.)");
        }

        Assert.Inconclusive(missing);
    }

    /// <summary>Skips (or, with FARM_E2E_REQUIRED=1, fails) unless every tool is installed.</summary>
    public static Task ToolsAsync(params string[] tools)
    {
        foreach (string tool in tools)
        {
            if (ToolLocator.Find(tool) is null)
            {
                string missing = $"The '{tool}' tool is missing: run installer/deps.sh.";
                if (Environment.GetEnvironmentVariable(RequiredVariable) == "1")
                {
                    Assert.Fail($"{missing} ({RequiredVariable}=1 forbids skipping.)");
                }

                Assert.Inconclusive(missing);
            }
        }

        return Task.CompletedTask;
    }
}

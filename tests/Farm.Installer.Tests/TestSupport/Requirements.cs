using Farm.Testing.Network;
using Farm.Testing.Processes;

namespace Farm.Installer.Tests.TestSupport;

/// <summary>Skips (or, with <c>FARM_E2E_REQUIRED=1</c> as tests/run.sh sets it, fails) a test this machine cannot run.</summary>
internal static class Requirements
{
    public const string RequiredVariable = "FARM_E2E_REQUIRED";

    /// <summary>Root, network namespaces, and the tools that build and boot the containers.</summary>
    public static async Task SystemdContainersAsync()
    {
        string? missing = await NamespaceSupport.GetMissingRequirementAsync(needNft: false);
        foreach (var (tool, package) in new[] { ("systemd-nspawn", "systemd-container"), ("debootstrap", "debootstrap"), ("nsenter", "util-linux"), ("dpkg-deb", "dpkg"), ("objdump", "binutils") })
        {
            missing ??= ToolLocator.Find(tool) is null ? $"The '{tool}' tool is missing: install {package} (installer/deps.sh does)." : null;
        }

        Skip(missing);
    }

    /// <summary>The .NET SDK (dotnet on PATH) for publishing.</summary>
    public static void DotnetSdk() => Skip(ToolLocator.Find("dotnet") is null ? "The .NET SDK (dotnet) is not on PATH." : null);

    private static void Skip(string? missing)
    {
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
}

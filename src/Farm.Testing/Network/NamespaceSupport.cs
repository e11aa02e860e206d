namespace Farm.Testing.Network;

/// <summary>Tells whether namespace-based tests can run here, and if not, what is missing and how to fix it.</summary>
[SupportedOSPlatform("linux")]
public static class NamespaceSupport
{
    private static readonly Lazy<Task<string?>> NamespaceProbe = new(ProbeNamespacesAsync);

    /// <summary>
    /// Null when a network namespace can be created and deleted (and, when <paramref name="needNft"/>, nft is
    /// installed); otherwise a message for <c>Assert.Inconclusive</c>. The namespace probe runs once per process.
    /// </summary>
    public static async Task<string?> GetMissingRequirementAsync(bool needNft)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "Network namespace tests need Linux.";
        }

        if (ToolLocator.Find("ip") is null)
        {
            return "The 'ip' tool is missing: install iproute2 (apt-get install iproute2).";
        }

        if (needNft && ToolLocator.Find("nft") is null)
        {
            return "The 'nft' tool is missing: install nftables (apt-get install nftables).";
        }

        return await NamespaceProbe.Value;
    }

    private static async Task<string?> ProbeNamespacesAsync()
    {
        try
        {
            var probe = await NetworkNamespace.CreateAsync();
            await probe.DisposeAsync();
            return null;
        }
        catch (CommandFailedException e)
        {
            return $"Cannot create a network namespace ({e.Message}). Run the tests as root (or with CAP_SYS_ADMIN and CAP_NET_ADMIN), e.g. `sudo dotnet test`.";
        }
    }
}

namespace Farm.DataPlane.Tests.Kernel;

/// <summary>
/// The base of the test classes that need the kernel (network namespaces, nft, libnftables, libpcap): before each test,
/// <see cref="Requirements.KernelAsync"/> skips (or fails) it where the machine cannot run it.
/// </summary>
public abstract class KernelTestClass
{
    /// <summary>Set by MSTest.</summary>
    public TestContext TestContext { get; set; } = null!;

    /// <summary>The running test's cancellation (its timeout).</summary>
    protected CancellationToken Ct => TestContext.CancellationToken;

    [TestInitialize]
    public Task RequireKernel() => Requirements.KernelAsync();
}

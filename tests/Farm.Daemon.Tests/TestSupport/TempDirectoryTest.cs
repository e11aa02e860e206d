namespace Farm.Daemon.Tests.TestSupport;

/// <summary>A test class whose every test gets its own temporary folder, made before it and deleted with all it holds after it.</summary>
public abstract class TempDirectoryTest(string prefix)
{
    /// <summary>The running test's folder.</summary>
    protected string Dir { get; private set; } = null!;

    [TestInitialize]
    public void CreateTempDirectory() => Dir = Directory.CreateTempSubdirectory(prefix).FullName;

    [TestCleanup]
    public void DeleteTempDirectory() => Directory.Delete(Dir, recursive: true);
}

namespace Farm.Modules.Tests.TestSupport;

/// <summary>A test class whose every test gets its own <see cref="ScriptDirectory"/>, deleted after it.</summary>
public abstract class ScriptDirectoryTest
{
    /// <summary>The running test's module folder.</summary>
    internal ScriptDirectory Dir { get; } = new();

    [TestCleanup]
    public void DeleteScriptDirectory() => Dir.Dispose();
}

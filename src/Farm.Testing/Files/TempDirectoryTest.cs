using Farm.Testing.Logging;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Farm.Testing.Files;

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

/// <summary>A <see cref="TempDirectoryTest"/> that also collects what the code under test logs, in <see cref="Logs"/>.</summary>
public abstract class LoggedTempDirectoryTest(string prefix) : TempDirectoryTest(prefix), IDisposable
{
    /// <summary>The log lines of the running test.</summary>
    protected TestLogSink Logs { get; } = new();

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            Logs.Dispose();
        }
    }
}

using System.Globalization;

namespace Farm.Modules.Tests.TestSupport;

/// <summary>A temporary module folder with executable shell scripts; deleted on dispose.</summary>
internal sealed class ScriptDirectory : IDisposable
{
    public ScriptDirectory()
    {
        Root = Path.Combine(Path.GetTempPath(), "farm-modules-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(Root, "bin"));
    }

    public string Root { get; }

    /// <summary>Writes <c>bin/NAME</c> (or a path relative to the root) as an executable bash script.</summary>
    public string Write(string name, string body, bool executable = true)
    {
        string path = Path.Combine(Root, name.Contains('/', StringComparison.Ordinal) ? name : Path.Combine("bin", name));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "#!/bin/bash\n" + body + "\n");
        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, executable ? mode | UnixFileMode.UserExecute : mode);
        }
        return path;
    }

    public string PathOf(string name) => Path.Combine(Root, name);

    public int ReadPid(string name)
    {
        string path = Path.Combine(Root, name);
        Assert.IsTrue(SpinWait.SpinUntil(() => File.Exists(path) && File.ReadAllText(path).Trim().Length > 0, TimeSpan.FromSeconds(10)), $"{name} was not written");
        return int.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>True while the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>SIGKILL is delivered asynchronously by the kernel; give it a moment, bounded.</summary>
    public static void AssertDies(int pid, string what) =>
        Assert.IsTrue(SpinWait.SpinUntil(() => !IsAlive(pid), TimeSpan.FromSeconds(10)), $"{what} (pid {pid}) survived");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}

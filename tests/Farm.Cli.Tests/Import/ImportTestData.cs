using System.Text;
using Farm.Cli.Import;

namespace Farm.Cli.Tests.Import;

/// <summary>The userconfig.xml shapes of Import/TestData (written from the SafeKit 8.2 guide) and helpers to import them.</summary>
internal static class ImportTestData
{
    public static string PathOf(string name) => CliRun.RepoFile("tests", "Farm.Cli.Tests", "Import", "TestData", name);

    public static string Text(string name) => File.ReadAllText(PathOf(name));

    public static SafeKitImport Import(string xml, string file = "userconfig.xml", params SafeKitScript[] scripts) =>
        SafeKitImporter.Import(new SafeKitImportRequest(xml, file, "app", null, scripts, scripts.Length > 0 ? "bin" : null));

    public static SafeKitImport ImportFile(string name) => Import(Text(name), name);

    public static SafeKitScript Script(string name, string text) => new(name, Encoding.UTF8.GetBytes(text), true);

    /// <summary>The farm.yaml of a successful import, parsed by the parser of 'farmctl config check'.</summary>
    public static ModuleConfig Module(SafeKitImport import)
    {
        Assert.IsTrue(import.Succeeded, string.Join('\n', import.Messages));
        var parsed = ConfigParser.ParseModule(FileText(import, "farm.yaml"), "farm.yaml");
        Assert.IsNotNull(parsed.Value, string.Join('\n', parsed.Errors));
        return parsed.Value;
    }

    public static string FileText(SafeKitImport import, string path) =>
        Encoding.UTF8.GetString(import.Files.Single(f => f.Path == path).Content);

    public static string[] WarningLines(SafeKitImport import) => [.. import.Warnings.Select(w => w.ToString())];

    /// <summary>Lays out a SafeKit module in <paramref name="temp"/> (conf/userconfig.xml, bin/) and imports it with farmctl into modules/web; returns that folder.</summary>
    public static string ImportSafeKitModule(TempFolder temp, string xml, params (string Name, string Text)[] scripts)
    {
        Directory.CreateDirectory(temp.Combine("safekit-module", "conf"));
        Directory.CreateDirectory(temp.Combine("safekit-module", "bin"));
        File.WriteAllText(temp.Combine("safekit-module", "conf", "userconfig.xml"), xml);
        foreach (var (name, text) in scripts)
        {
            string path = temp.Combine("safekit-module", "bin", name);
            File.WriteAllText(path, text);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        string module = temp.Combine("modules", "web");
        var run = CliRun.Of("import", "safekit", temp.Combine("safekit-module", "conf", "userconfig.xml"), "-o", module);
        Assert.AreEqual(CliApp.ExitOk, run.ExitCode, run.Error);
        return module;
    }

    /// <summary>A fresh folder under the temp folder, deleted by <see cref="IDisposable.Dispose"/>.</summary>
    public sealed class TempFolder : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "farm-import-" + Guid.NewGuid().ToString("N")[..12]);

        public TempFolder() => Directory.CreateDirectory(Path);

        public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

        public void Dispose()
        {
            if (Directory.Exists(Path))
            {
                Directory.Delete(Path, recursive: true);
            }
        }
    }
}

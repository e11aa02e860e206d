namespace Farm.Core.Tests.Config;

/// <summary>Parsing shortcuts and error assertions shared by the config tests.</summary>
internal static class ConfigAssert
{
    public const string File = "test.yaml";

    public static ConfigResult<ClusterConfig> Cluster(string yaml) => ConfigParser.ParseCluster(yaml, File);

    public static ConfigResult<ModuleConfig> Module(string yaml) => ConfigParser.ParseModule(yaml, File);

    public static ClusterConfig ValidCluster(string yaml) => Valid(Cluster(yaml));

    public static ModuleConfig ValidModule(string yaml) => Valid(Module(yaml));

    /// <summary>Asserts exactly one error, at the given position, whose message contains <paramref name="messagePart"/>; returns it.</summary>
    public static ConfigError SingleError<T>(ConfigResult<T> result, int line, int column, string messagePart)
        where T : class
    {
        Assert.IsFalse(result.Succeeded);
        Assert.IsNull(result.Value);
        Assert.AreEqual(1, result.Errors.Count, "errors:\n" + string.Join('\n', result.Errors));
        var error = result.Errors[0];
        Assert.AreEqual(File, error.File);
        Assert.AreEqual((line, column), (error.Line, error.Column), error.ToString());
        StringAssert.Contains(error.Message, messagePart, error.ToString());
        Assert.IsFalse(string.IsNullOrWhiteSpace(error.Hint), "every error needs a hint: " + error);
        return error;
    }

    /// <summary>Asserts exactly one error whose message contains <paramref name="messagePart"/>, wherever it is; returns it.</summary>
    public static ConfigError SingleError<T>(ConfigResult<T> result, string messagePart)
        where T : class
    {
        Assert.AreEqual(1, result.Errors.Count, "errors:\n" + string.Join('\n', result.Errors));
        var error = result.Errors[0];
        StringAssert.Contains(error.Message, messagePart, error.ToString());
        Assert.IsFalse(string.IsNullOrWhiteSpace(error.Hint), "every error needs a hint: " + error);
        return error;
    }

    /// <summary>
    /// Asserts exactly the <paramref name="expected"/> errors, in order: each at its position, its message containing
    /// the part given, with a hint.
    /// </summary>
    public static void LocatedErrors(IReadOnlyList<ConfigError> errors, params (int Line, int Column, string Part)[] expected)
    {
        Assert.AreEqual(expected.Length, errors.Count, string.Join('\n', errors));
        for (int i = 0; i < expected.Length; i++)
        {
            var error = errors[i];
            Assert.AreEqual((expected[i].Line, expected[i].Column), (error.Line, error.Column), error.ToString());
            StringAssert.Contains(error.Message, expected[i].Part);
            Assert.IsFalse(string.IsNullOrWhiteSpace(error.Hint), error.ToString());
        }
    }

    /// <summary>
    /// Parses the file <paramref name="name"/> of tests/Farm.Core.Tests/Config/TestData under the name
    /// <paramref name="asFile"/> and asserts it is a <paramref name="kind"/> file with exactly the <paramref name="expected"/>
    /// errors (see <see cref="LocatedErrors"/>).
    /// </summary>
    public static void TestDataErrors(string name, string asFile, ConfigFileKind kind, params (int Line, int Column, string Part)[] expected)
    {
        string file = Path.Combine(RepoRoot(), "tests", "Farm.Core.Tests", "Config", "TestData", name);
        var result = ConfigParser.Parse(System.IO.File.ReadAllText(file), asFile);

        Assert.AreEqual(kind, result.Kind);
        Assert.IsFalse(result.Succeeded);
        LocatedErrors(result.Errors, expected);
    }

    private static T Valid<T>(ConfigResult<T> result)
        where T : class
    {
        Assert.IsTrue(result.Succeeded, "unexpected errors:\n" + string.Join('\n', result.Errors));
        return result.Value!;
    }

    /// <summary>Every YAML file under docs/examples, in ordinal path order (so seeded tests over them reproduce).</summary>
    public static IEnumerable<string> ExampleFiles() =>
        Directory.EnumerateFiles(Path.Combine(RepoRoot(), "docs", "examples"), "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal);

    /// <summary>The repository root (the folder holding Farm.sln), for tests over docs/examples.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "Farm.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Farm.sln not found above " + AppContext.BaseDirectory);
    }
}

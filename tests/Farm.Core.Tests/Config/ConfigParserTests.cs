namespace Farm.Core.Tests.Config;

[TestClass]
public sealed class ConfigParserTests
{
    private const string MinimalCluster = ConfigSamples.MinimalCluster;

    private const string MinimalModule = ConfigSamples.MinimalModule;

    [TestMethod]
    public void Parse_ClusterFile_DetectsClusterKind()
    {
        var result = ConfigParser.Parse(MinimalCluster, "c.yaml");
        Assert.AreEqual(ConfigFileKind.Cluster, result.Kind);
        Assert.IsTrue(result.Succeeded);
        Assert.IsNotNull(result.Cluster);
        Assert.IsNull(result.Module);
    }

    [TestMethod]
    public void Parse_ModuleFile_DetectsModuleKind()
    {
        var result = ConfigParser.Parse(MinimalModule, "farm.yaml");
        Assert.AreEqual(ConfigFileKind.Module, result.Kind);
        Assert.IsTrue(result.Succeeded);
        Assert.AreEqual("web", result.Module!.Name);
    }

    [TestMethod]
    public void Parse_SyntaxError_ReportsOneLocatedError()
    {
        var result = ConfigAssert.Cluster("cluster:\n  name: demo\n  nodes: [a, b\n  key: x\n");
        var error = ConfigAssert.SingleError(result, "invalid YAML");
        Assert.AreEqual(3, error.Line);
        Assert.DoesNotContain("Line:", error.Message);
    }

    [TestMethod]
    public void Parse_UnclosedQuote_ReportsSyntaxErrorWithPosition()
    {
        var error = ConfigAssert.SingleError(ConfigAssert.Cluster("cluster:\n  name: \"demo\n  key: x\n"), "invalid YAML");
        Assert.IsTrue(error.Line >= 2, error.ToString());
    }

    [TestMethod]
    public void Parse_BadIndentation_ReportsSyntaxErrorWithPosition()
    {
        var result = ConfigAssert.Cluster("cluster:\n  name: demo\n   key: x\n");
        var error = ConfigAssert.SingleError(result, "invalid YAML");
        Assert.AreEqual(3, error.Line);
    }

    [TestMethod]
    public void Parse_EmptyText_ReportsEmptyFile() =>
        ConfigAssert.SingleError(ConfigAssert.Cluster(""), 1, 1, "empty");

    [TestMethod]
    public void Parse_TwoDocuments_ReportsExtraDocument() =>
        ConfigAssert.SingleError(ConfigAssert.Cluster(MinimalCluster + "\n---\ncluster: {}\n"), 7, 1, "more than one YAML document");

    [TestMethod]
    public void Parse_MisspelledTopLevelKey_SuggestsCluster()
    {
        var error = ConfigAssert.SingleError(ConfigAssert.Cluster("clustr:\n  name: demo\n"), 1, 1, "unknown top-level key 'clustr'");
        Assert.AreEqual("did you mean 'cluster'?", error.Hint);
    }

    [TestMethod]
    public void ParseCluster_ModuleText_ReportsWrongKind()
    {
        var error = ConfigAssert.SingleError(ConfigAssert.Cluster(MinimalModule), 1, 1, "'module' does not belong in a cluster file");
        StringAssert.Contains(error.Hint, "separate files");
    }

    [TestMethod]
    public void Parse_ScalarRoot_ReportsMissingTopLevelKey()
    {
        var result = ConfigParser.Parse("hello", "x.yaml");
        Assert.AreEqual(ConfigFileKind.Unknown, result.Kind);
        Assert.AreEqual(1, result.Errors.Count);
        StringAssert.Contains(result.Errors[0].Message, "'cluster:' or 'module:'");
    }

    [TestMethod]
    public void Parse_TopLevelNotMapping_ReportsWrongType() =>
        ConfigAssert.SingleError(ConfigAssert.Module("module: 5\n"), 1, 9, "must be a mapping");

    [TestMethod]
    public void Parse_DuplicateKey_ReportsSecondOccurrenceWithFirstLine()
    {
        var result = ConfigAssert.Cluster(MinimalCluster.Replace("  key:", "  name: other\n  key:"));
        var error = ConfigAssert.SingleError(result, 3, 3, "duplicate key 'name' in cluster (first set at line 2)");
        Assert.AreEqual("keep only one of them", error.Hint);
    }

    [TestMethod]
    public void Parse_AnchorAndAlias_ResolvesAliasToAnchoredValue()
    {
        var cluster = ConfigAssert.ValidCluster(MinimalCluster + "\n      weight: &w 250\n    - name: b\n      addresses: [198.18.0.2]\n      weight: *w");
        Assert.AreEqual(250, cluster.Nodes[1].Weight);
    }

    [TestMethod]
    public void Parse_ExplicitStrTag_TreatsValueAsString()
    {
        var result = ConfigAssert.Cluster(MinimalCluster.Replace("name: a", "name: a\n      weight: !!str 100"));
        ConfigAssert.SingleError(result, "must be an integer");
    }

    [TestMethod]
    public void Parse_ErrorsInManyPlaces_AreSortedInFileOrder()
    {
        var result = ConfigAssert.Cluster("""
            cluster:
              nodes:
                - name: B
                  addresses: [198.18.0.1]
                  weight: 2000
              name: Demo
              key: short
            """);
        var lines = result.Errors.Select(e => e.Line).ToList();
        CollectionAssert.AreEqual(lines.Order().ToList(), lines);
        Assert.AreEqual(4, result.Errors.Count, string.Join('\n', result.Errors));
    }

    [TestMethod]
    public void ConfigError_ToString_UsesCompilerFormat()
    {
        var error = new ConfigError("c.yaml", 3, 7, "something is wrong", "fix it");
        Assert.AreEqual("c.yaml:3:7: error: something is wrong (hint: fix it)", error.ToString());
        Assert.AreEqual("c.yaml:3:7: error: bare", (error with { Message = "bare", Hint = null }).ToString());
    }
}

namespace Farm.Core.Tests.Config;

/// <summary><c>key_file</c>: the key read through the caller's reader, every problem located at the setting, the secret never echoed.</summary>
[TestClass]
public sealed class ClusterKeyFileTests
{
    private const string Secret = "s3cret-s3cret-s3cret-s3cret";

    private static string File(string keySettings) =>
        $"cluster:\n  name: demo\n{keySettings}\n  nodes: [{{ name: a, addresses: [198.18.0.1] }}]\n";

    [TestMethod]
    public void ParseCluster_KeyFile_ReadsTheKeyThroughTheReaderAndTrimsIt()
    {
        var reader = new FakeReader { ["/etc/farm/cluster.key"] = Secret + "\n" };

        var result = ConfigParser.ParseCluster(File("  key_file: /etc/farm/cluster.key"), ConfigAssert.File, reader);

        Assert.IsTrue(result.Succeeded, string.Join('\n', result.Errors));
        Assert.AreEqual(Secret, result.Value!.Key);
        Assert.AreEqual("/etc/farm/cluster.key", result.Value.KeyFile);
        CollectionAssert.AreEqual(new[] { "/etc/farm/cluster.key" }, reader.Reads);
    }

    [TestMethod]
    public void ComputeHash_KeyFileOrInlineWithTheSameKey_IsTheSame()
    {
        var fromFile = ConfigParser.ParseCluster(File("  key_file: k"), ConfigAssert.File, new FakeReader { ["k"] = Secret }).Value!;
        var inline = ConfigAssert.ValidCluster(File($"  key: {Secret}"));

        Assert.AreEqual(inline.ComputeHash(), fromFile.ComputeHash());
        Assert.IsTrue(ClusterConfigDiff.Compare(inline, fromFile).IsEmpty);
        Assert.IsFalse(fromFile.ToString().Contains(Secret, StringComparison.Ordinal));
    }

    [TestMethod]
    public void ParseCluster_KeyAndKeyFile_ReportsThatTheyExcludeEachOther()
    {
        var result = ConfigParser.ParseCluster(File($"  key: {Secret}\n  key_file: k"), ConfigAssert.File, new FakeReader { ["k"] = Secret });

        var error = ConfigAssert.SingleError(result, 3, 3, "'key' and 'key_file' exclude each other");
        StringAssert.Contains(error.Hint, "keep 'key_file'");
    }

    [TestMethod]
    public void ParseCluster_NeitherKeyNorKeyFile_AsksForKeyFileFirst()
    {
        var error = ConfigAssert.SingleError(ConfigAssert.Cluster(File("")), 2, 3, "missing required key 'key_file' in cluster");
        StringAssert.Contains(error.Hint, "key_file: /etc/farm/cluster.key");
    }

    [TestMethod]
    public void ParseCluster_KeyFileWithoutReader_IsALocatedErrorNotAnEmptyKey()
    {
        ConfigAssert.SingleError(ConfigAssert.Cluster(File("  key_file: k")), 3, 13, "the key file cannot be read here");
    }

    [TestMethod]
    [DataRow("missing", "key file 'missing' cannot be read: no such file")]
    [DataRow("denied", "key file 'denied' cannot be read: permission denied")]
    [DataRow("huge", "key file 'huge' cannot be read: larger than 65536 bytes")]
    public void ParseCluster_UnreadableKeyFile_ReportsWhyAtTheSetting(string path, string message)
    {
        var result = ConfigParser.ParseCluster(File($"  key_file: {path}"), ConfigAssert.File, new FakeReader());

        ConfigAssert.SingleError(result, 3, 13, message);
    }

    [TestMethod]
    [DataRow("short\n", "the key in key file 'k' is shorter than 16 characters")]
    [DataRow("   \n", "the key in key file 'k' is shorter than 16 characters")]
    public void ParseCluster_KeyFileWithAShortKey_ReportsWithoutEchoingIt(string content, string message)
    {
        var result = ConfigParser.ParseCluster(File("  key_file: k"), ConfigAssert.File, new FakeReader { ["k"] = content });

        var error = ConfigAssert.SingleError(result, 3, 13, message);
        Assert.IsFalse(error.ToString().Contains("short", StringComparison.Ordinal) && !message.Contains("short", StringComparison.Ordinal));
    }

    [TestMethod]
    public void ParseCluster_KeyLongerThanTheLimit_IsRefused()
    {
        var result = ConfigParser.ParseCluster(File("  key_file: k"), ConfigAssert.File, new FakeReader { ["k"] = new string('k', ConfigLimits.MaxKeyLength + 1) });

        ConfigAssert.SingleError(result, 3, 13, "is longer than 4096 characters");
    }

    [TestMethod]
    public void ParseCluster_KeyFilePathWithControlCharacters_IsRefusedAndShownEscaped()
    {
        var result = ConfigParser.ParseCluster(File("  key_file: \"k\\e[2J\""), ConfigAssert.File, new FakeReader());

        var error = ConfigAssert.SingleError(result, 3, 13, "key_file 'k\\x1b[2J' is not a valid path");
        Assert.IsFalse(error.ToString().Contains('\u001b', StringComparison.Ordinal));
    }

    private sealed class FakeReader : Dictionary<string, string>, IKeyFileReader
    {
        public List<string> Reads { get; } = [];

        public string Read(string path)
        {
            Reads.Add(path);
            return path switch
            {
                "denied" => throw new UnauthorizedAccessException("no"),
                "huge" => throw new IOException("larger than 65536 bytes"),
                _ => TryGetValue(path, out var text) ? text : throw new FileNotFoundException("gone", path),
            };
        }
    }
}

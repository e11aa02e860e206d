namespace Farm.Modules.Tests.Scripts;

[TestClass]
public sealed class ScriptOutputReaderTests
{
    [TestMethod]
    public async Task ReadLineAsync_LinesWithCrLfAndNoFinalNewline_ReturnsEachLine()
    {
        var lines = await ReadAll("one\r\ntwo\n\nthree");

        CollectionAssert.AreEqual(new[] { "one", "two", "", "three" }, lines);
    }

    [TestMethod]
    public async Task ReadLineAsync_LineLongerThanTheLimit_IsCutAndSaysHowMuchWasDropped()
    {
        var lines = await ReadAll(new string('a', 25) + "\nnext\n", maxLineLength: 10);

        CollectionAssert.AreEqual(new[] { "aaaaaaaaaa [... 15 more characters of this line dropped]", "next" }, lines);
    }

    [TestMethod]
    public async Task ReadLineAsync_HugeOutputWithoutNewline_KeepsOnlyTheLimit()
    {
        var reader = new ScriptOutputReader(new StringReader(new string('x', 5_000_000)));

        string? line = await reader.ReadLineAsync();

        Assert.IsNotNull(line);
        StringAssert.StartsWith(line, new string('x', ScriptOutputReader.MaxLineLength) + " [... 4995904 more");
        Assert.IsNull(await reader.ReadLineAsync());
    }

    [TestMethod]
    public async Task ReadLineAsync_TerminalEscapes_AreWrittenOut()
    {
        var lines = await ReadAll("\u001b[2J\u001b]0;pwned\u0007ok\rFAKE\n");

        CollectionAssert.AreEqual(new[] { "\\x1b[2J\\x1b]0;pwned\\x07ok\\x0dFAKE" }, lines);
    }

    [TestMethod]
    public async Task ReadLineAsync_Empty_ReturnsNull() => CollectionAssert.AreEqual(Array.Empty<string>(), await ReadAll(""));

    private static async Task<List<string>> ReadAll(string text, int maxLineLength = ScriptOutputReader.MaxLineLength)
    {
        var reader = new ScriptOutputReader(new StringReader(text), maxLineLength);
        var lines = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }
}

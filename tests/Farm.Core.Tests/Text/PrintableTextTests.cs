using Farm.Core.Text;

namespace Farm.Core.Tests.Text;

[TestClass]
public sealed class PrintableTextTests
{
    [TestMethod]
    public void Neutralize_PlainText_ReturnsTheSameInstance()
    {
        const string Text = "start_both: started pid 42\tok — déjà vu";
        Assert.AreSame(Text, PrintableText.Neutralize(Text));
        Assert.IsTrue(PrintableText.IsSafe(Text));
    }

    [TestMethod]
    [DataRow("\u001b[2J\u001b]0;owned\u0007", "\\x1b[2J\\x1b]0;owned\\x07")]
    [DataRow("ok\rFAKE", "ok\\x0dFAKE")]
    [DataRow("a\u009b31mb", "a\\x9b31mb")]
    [DataRow("del\u007f", "del\\x7f")]
    [DataRow("abc\u202edcba", "abc\\u202edcba")]
    [DataRow("x\u2066y", "x\\u2066y")]
    [DataRow("nul\0", "nul\\x00")]
    public void Neutralize_TerminalControls_AreWrittenOut(string text, string expected)
    {
        Assert.AreEqual(expected, PrintableText.Neutralize(text));
        Assert.IsFalse(PrintableText.IsSafe(text));
    }

    [TestMethod]
    public void Neutralize_LongerThanTheLimit_IsCutWithAnEllipsis()
    {
        string result = PrintableText.Neutralize(new string('a', 100) + "\u001b", 10);
        Assert.AreEqual("aaaaaaa...", result);
    }

    [TestMethod]
    public void Neutralize_EscapesNearTheLimit_NeverExceedIt()
    {
        for (int length = 3; length < 20; length++)
        {
            string result = PrintableText.Neutralize(new string('\u001b', 30), length);
            Assert.IsTrue(result.Length <= length, $"{length}: {result}");
        }
    }
}

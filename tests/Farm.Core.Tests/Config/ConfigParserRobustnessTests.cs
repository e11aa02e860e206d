namespace Farm.Core.Tests.Config;

/// <summary>Whatever an admin's editor leaves in a file, the parser reports errors; it never throws.</summary>
[TestClass]
public sealed class ConfigParserRobustnessTests
{
    private static IEnumerable<(string Name, string Text)> Examples() =>
        ConfigAssert.ExampleFiles().Select(f => (Path.GetFileName(f), File.ReadAllText(f)));

    [TestMethod]
    public void Parse_EveryTruncationOfTheExamples_ReturnsErrorsOrConfigWithoutThrowing()
    {
        foreach (var (name, text) in Examples())
        {
            for (int length = 0; length < text.Length; length++)
            {
                var result = ParseWithoutThrowing(text[..length], name, $"prefix of {length} characters");
                Assert.IsTrue(result.Succeeded || result.Errors.All(e => e.Line >= 1 && e.Column >= 1 && e.Hint is not null), $"{name} prefix {length}");
            }
        }
    }

    [TestMethod]
    public void Parse_RandomEditsOfTheExamples_NeverThrow()
    {
        var random = new Random(20261122); // fixed seed: a failure reproduces
        const string alphabet = " \t\n:-[]{},'\"#&*!|>%@`?0123456789abcxyz";
        foreach (var (name, text) in Examples())
        {
            for (int round = 0; round < 400; round++)
            {
                var chars = text.ToList();
                for (int edit = random.Next(1, 4); edit > 0 && chars.Count > 0; edit--)
                {
                    int at = random.Next(chars.Count);
                    switch (random.Next(3))
                    {
                        case 0: chars.RemoveAt(at); break;
                        case 1: chars.Insert(at, alphabet[random.Next(alphabet.Length)]); break;
                        default: chars[at] = alphabet[random.Next(alphabet.Length)]; break;
                    }
                }

                ParseWithoutThrowing(new string([.. chars]), name, $"round {round}");
            }
        }
    }

    private static ConfigFileResult ParseWithoutThrowing(string text, string name, string what)
    {
        try
        {
            return ConfigParser.Parse(text, name);
        }
        catch (Exception ex)
        {
            Assert.Fail($"{name} ({what}) threw {ex.GetType().Name}: {ex.Message}\n--- input ---\n{text}");
            throw;
        }
    }
}

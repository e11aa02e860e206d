using Farm.Protocol.V1;

namespace Farm.Cli.Tests.Config;

[TestClass]
public sealed class ConfigApplyOutputTests
{
    private static ConfigApplyAnswer Answer()
    {
        var answer = new ConfigApplyAnswer();
        answer.Results.Add(new ConfigApplyResult { Node = "n1", Outcome = ConfigApplyOutcome.Applied, Version = 4, PreviousWeight = 100, Weight = 200, Path = "/etc/farm/cluster.yaml" });
        var refused = new ConfigApplyResult { Node = "n2", Outcome = ConfigApplyOutcome.Refused, Version = 4, PreviousWeight = 100, Weight = 100, Path = "/etc/farm/cluster.yaml" };
        refused.Errors.Add("config version 4 is not newer than the running version 4: raise `version`");
        answer.Results.Add(refused);
        var failed = new ConfigApplyResult { Node = "n3", Outcome = ConfigApplyOutcome.Failed };
        failed.Errors.Add("cannot reach n3: 198.18.0.3:9400: connection refused");
        answer.Results.Add(failed);
        return answer;
    }

    [TestMethod]
    public void Render_Answer_OneRowPerNodeThenEachNodesProblems()
    {
        using var output = new StringWriter { NewLine = "\n" };
        ConfigApplyOutput.Render(CliTerminal.Redirected.CreateConsole(output), Answer());
        string text = output.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);

        StringAssert.Matches(text, new System.Text.RegularExpressions.Regex(@"(?m)^n1\s+applied\s+4\s+100 -> 200\s+/etc/farm/cluster\.yaml"));
        StringAssert.Matches(text, new System.Text.RegularExpressions.Regex(@"(?m)^n2\s+refused\s+4\s+100\s+/etc/farm/cluster\.yaml"));
        StringAssert.Matches(text, new System.Text.RegularExpressions.Regex(@"(?m)^n3\s+failed\s+-\s+-\s+-"));
        StringAssert.Contains(text, "n2: refused:\n  config version 4 is not newer than the running version 4: raise `version`\n");
        StringAssert.Contains(text, "n3: failed:\n  cannot reach n3: 198.18.0.3:9400: connection refused\n");
    }

    [TestMethod]
    public void Json_Answer_NullsWhatANodeThatWasNotReachedCouldNotSay()
    {
        using var doc = JsonDocument.Parse(ConfigApplyOutput.Json("new.yaml", Answer()));
        Assert.AreEqual("new.yaml", doc.RootElement.GetProperty("file").GetString());
        var results = doc.RootElement.GetProperty("results");
        CollectionAssert.AreEqual(new[] { "node", "outcome", "version", "previous_weight", "weight", "path", "errors" }, results[0].EnumerateObject().Select(p => p.Name).ToArray());
        Assert.AreEqual(("applied", 200), (results[0].GetProperty("outcome").GetString(), results[0].GetProperty("weight").GetInt32()));
        Assert.AreEqual("config version 4 is not newer than the running version 4: raise `version`", results[1].GetProperty("errors")[0].GetString());
        Assert.AreEqual((JsonValueKind.Null, JsonValueKind.Null), (results[2].GetProperty("version").ValueKind, results[2].GetProperty("path").ValueKind));
    }
}

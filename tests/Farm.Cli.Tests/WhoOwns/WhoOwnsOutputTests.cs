using System.Text.RegularExpressions;
using Farm.Cli.WhoOwns;
using Farm.Protocol.V1;

namespace Farm.Cli.Tests.WhoOwns;

[TestClass]
public sealed class WhoOwnsOutputTests
{
    [TestMethod]
    public void Render_Answer_RowPerEntryWithWhyAndWhatIsMissing()
    {
        using var output = new StringWriter { NewLine = "\n" };
        WhoOwnsOutput.Render(CliTerminal.Redirected.CreateConsole(output), Sample());
        string text = output.ToString();

        StringAssert.StartsWith(text, "Client 10.1.2.3, as n1 sees it: view epoch 4 (coordinator n1)");
        StringAssert.Matches(text, new Regex(@"MODULE\s+RULES\s+AFFINITY\s+BUCKET\s+OWNER\s+STATE ON OWNER\s+STATE ON n1"));
        StringAssert.Matches(text, new Regex(@"web\s+tcp 80, tcp 443\s+client_ip\s+3708/4096\s+n3\s+\?\s+draining"));
        StringAssert.Matches(text, new Regex(@"web\s+udp 5000-5100\s+client_ip_port\s+-\s+-\s+-\s+-"));
        StringAssert.Contains(text, "web tcp 80, tcp 443: jhash(client address) mod 4096 seed 0x6661726d = bucket 3708, which the view gives to n3");
        StringAssert.Contains(text, "web udp 5000-5100: affinity client_ip_port hashes the client's source port too");
        Assert.IsFalse(text.Contains('\u001b'));
    }

    [TestMethod]
    public void Json_Answer_DocumentedFieldsWithNullsForTheUnknown()
    {
        using var doc = JsonDocument.Parse(WhoOwnsOutput.Json(Sample()));
        var root = doc.RootElement;
        CollectionAssert.AreEqual(new[] { "client", "node", "epoch", "coordinator", "owners" }, root.EnumerateObject().Select(p => p.Name).ToArray());
        var ip = root.GetProperty("owners")[0];
        CollectionAssert.AreEqual(
            new[] { "module", "rules", "affinity", "bucket", "bucket_count", "seed", "owner", "owner_state", "local_state", "error" },
            ip.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.AreEqual((3708, 4096, 0x6661726du, "n3", "draining"),
            (ip.GetProperty("bucket").GetInt32(), ip.GetProperty("bucket_count").GetInt32(), ip.GetProperty("seed").GetUInt32(),
             ip.GetProperty("owner").GetString(), ip.GetProperty("local_state").GetString()));
        Assert.AreEqual(JsonValueKind.Null, ip.GetProperty("owner_state").ValueKind, "unknown unless the owner answers");
        CollectionAssert.AreEqual(new[] { "tcp 80", "tcp 443" }, ip.GetProperty("rules").EnumerateArray().Select(r => r.GetString()).ToArray());

        var port = root.GetProperty("owners")[1];
        Assert.AreEqual(JsonValueKind.Null, port.GetProperty("bucket").ValueKind);
        Assert.AreEqual(JsonValueKind.Null, port.GetProperty("owner").ValueKind);
        StringAssert.Contains(port.GetProperty("error").GetString(), "ADDRESS:PORT");
    }

    [TestMethod]
    public void Answered_OnlyEntriesWithoutBucket_False()
    {
        var answer = Sample();
        Assert.IsTrue(WhoOwnsOutput.Answered(answer));
        answer.Owners.RemoveAt(0);
        Assert.IsFalse(WhoOwnsOutput.Answered(answer));
    }

    private static WhoOwnsAnswer Sample()
    {
        var answer = new WhoOwnsAnswer { Node = "n1", InstalledEpoch = 4, Coordinator = "n1", Client = "10.1.2.3" };
        var ip = new BucketOwner
        {
            Module = "web",
            Affinity = "client_ip",
            Bucket = 3708,
            BucketCount = 4096,
            Seed = 0x6661726d,
            Owner = "n3",
            OwnerState = BucketState.Unknown,
            LocalState = BucketState.Draining,
        };
        ip.Rules.Add(["tcp 80", "tcp 443"]);
        var port = new BucketOwner
        {
            Module = "web",
            Affinity = "client_ip_port",
            Bucket = -1,
            BucketCount = 4096,
            Seed = 0x6661726d,
            Error = "affinity client_ip_port hashes the client's source port too: give the client as ADDRESS:PORT",
        };
        port.Rules.Add("udp 5000-5100");
        answer.Owners.Add(ip);
        answer.Owners.Add(port);
        return answer;
    }
}

using System.Buffers.Binary;
using System.Net;
using System.Text;
using Farm.DataPlane.Conntrack;

namespace Farm.DataPlane.Tests.Filtering;

[TestClass]
public sealed class NftStateBatchTests
{
    [TestMethod]
    public void Build_RunsOfTwoStates_IntervalElementsAsNftSendsThemAndTheLastMessageAsksForTheAck()
    {
        var batch = new NftRuleset(Modules.Web()).StateBatch(new BucketAssignment(1, [3, 4, 9], [5, 6], [], [], [IPEndPoint.Parse("198.18.1.9:53")]));

        var (datagram, last) = batch.Build(100);

        var messages = Decode(datagram);
        CollectionAssert.AreEqual(
            new[]
            {
                "begin", "flush owned", "add owned: 0 end, 3, 5 end, 9, 10 end", "flush incoming", "add incoming: 0 end, 5, 7 end",
                "flush draining", "flush claimed",
                "flush states", "add states: 0 end, 3 goto admit_owned, 5 end, 5 goto admit_incoming, 7 end, 9 goto admit_owned, 10 end",
                "flush foreign4", "add foreign4: c6120109 00350000", "flush foreign6", "end",
            },
            messages.Select(m => m.Text).ToArray());
        CollectionAssert.AreEqual(Enumerable.Range(100, messages.Count).Select(i => (uint)i).ToArray(), messages.Select(m => m.Sequence).ToArray());
        Assert.AreEqual(messages[^2].Sequence, last);
        CollectionAssert.AreEqual(new[] { last }, messages.Where(m => (m.Flags & CtnetlinkParser.NlmFAck) != 0).Select(m => m.Sequence).ToArray());
    }

    [TestMethod]
    public void Build_TwoThousandRuns_ElementListsSplitOverMessagesOfOneBatch()
    {
        var module = Modules.Web() with { Buckets = 4096 };
        var batch = new NftRuleset(module).StateBatch(new BucketAssignment(1, [.. Enumerable.Range(0, 4096).Where(b => b % 2 == 0)], [], []));

        var messages = Decode(batch.Build(1).Datagram);

        var owned = messages.Where(m => m.Text.StartsWith("add owned:", StringComparison.Ordinal)).ToList();
        Assert.IsGreaterThan(1, owned.Count);
        Assert.AreEqual(4096, owned.Sum(m => m.Text.Split(',').Length), "2,048 starts and 2,048 ends");
        Assert.AreEqual("end", messages[^1].Text);
    }

    [TestMethod]
    public void Text_Assignment_IsTheRulesetsApplyText()
    {
        var ruleset = new NftRuleset(Modules.Web());
        var assignment = new BucketAssignment(1, [0, 1], [2], [7], [9], [IPEndPoint.Parse("[2001:db8::9]:53")]);

        Assert.AreEqual(ruleset.Apply(assignment), ruleset.StateBatch(assignment).Text);
        StringAssert.Contains(ruleset.Apply(assignment), "add element inet farm_web states { 0-1 : goto admit_owned, 2 : goto admit_incoming, 7 : goto admit_draining, 9 : goto admit_claimed }");
    }

    /// <summary>The batch's messages as text: "add SET: elements" (keys as big-endian hex or numbers), "flush SET", begin, end.</summary>
    private static List<(uint Sequence, ushort Flags, string Text)> Decode(byte[] datagram)
    {
        var list = new List<(uint, ushort, string)>();
        for (int offset = 0; offset < datagram.Length;)
        {
            var message = datagram.AsSpan(offset, (int)BinaryPrimitives.ReadUInt32LittleEndian(datagram.AsSpan(offset)));
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(message[4..]);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(message[6..]);
            uint sequence = BinaryPrimitives.ReadUInt32LittleEndian(message[8..]);
            var attributes = Attributes(message[20..].ToArray());
            string set = attributes.TryGetValue(2, out var name) ? Encoding.ASCII.GetString(name).TrimEnd('\0') : "";
            string text = type switch
            {
                0x10 => "begin",
                0x11 => "end",
                0x0a0e when !attributes.ContainsKey(3) => $"flush {set}",
                0x0a0c => $"add {set}: {string.Join(", ", Elements(attributes[3]))}",
                _ => $"type {type:x}",
            };
            list.Add((sequence, flags, text));
            offset += message.Length;
        }

        return list;
    }

    private static IEnumerable<string> Elements(byte[] list)
    {
        foreach (var element in AttributeList(list))
        {
            var e = Attributes(element.Payload);
            byte[] key = Attributes(e[1])[1];
            string text = key.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(key).ToString(System.Globalization.CultureInfo.InvariantCulture)
                : string.Join(" ", key.Chunk(4).Select(Convert.ToHexStringLower));
            if (e.TryGetValue(3, out var elementFlags) && BinaryPrimitives.ReadUInt32BigEndian(elementFlags) == 1)
            {
                text += " end";
            }

            if (e.TryGetValue(2, out var data))
            {
                var verdict = Attributes(Attributes(data)[2]);
                Assert.AreEqual(-4, BinaryPrimitives.ReadInt32BigEndian(verdict[1]), "goto");
                text += " goto " + Encoding.ASCII.GetString(verdict[2]).TrimEnd('\0');
            }

            yield return text;
        }
    }

    private static Dictionary<ushort, byte[]> Attributes(byte[] payload) => AttributeList(payload).ToDictionary(a => a.Type, a => a.Payload);

    private static List<(ushort Type, byte[] Payload)> AttributeList(byte[] payload)
    {
        var list = new List<(ushort, byte[])>();
        for (int offset = 0; offset + 4 <= payload.Length;)
        {
            ushort length = BinaryPrimitives.ReadUInt16LittleEndian(payload.AsSpan(offset));
            ushort type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(payload.AsSpan(offset + 2)) & 0x7fff);
            list.Add((type, payload.AsSpan(offset + 4, length - 4).ToArray()));
            offset += (length + 3) & ~3;
        }

        return list;
    }
}

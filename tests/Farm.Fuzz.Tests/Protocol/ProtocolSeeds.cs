using Farm.Protocol.V1;

namespace Farm.Fuzz.Tests.Protocol;

/// <summary>The seeds of the protocol targets, built from the generated messages (kept as files under Inputs/).</summary>
internal static class ProtocolSeeds
{
    /// <summary>The cluster key the envelope seeds are sealed with.</summary>
    public const string Key = "fuzz-cluster-key-0123456789";

    /// <summary>The membership methods, by gRPC path, with the payload parser of their requests and replies.</summary>
    public static readonly (string Method, MessageParser Request, MessageParser Reply)[] Methods =
    [
        ("/farm.v1.Membership/Heartbeat", HeartbeatRequest.Parser, HeartbeatReply.Parser),
        ("/farm.v1.Membership/Prepare", PrepareRequest.Parser, PrepareReply.Parser),
        ("/farm.v1.Membership/Commit", CommitRequest.Parser, CommitReply.Parser),
        ("/farm.v1.Membership/GetView", GetViewRequest.Parser, GetViewReply.Parser),
    ];

    /// <summary>Every message type a membership payload can be, indexed by the first byte of a payload input.</summary>
    public static readonly MessageParser[] PayloadParsers =
    [
        HeartbeatRequest.Parser, HeartbeatReply.Parser, PrepareRequest.Parser, PrepareReply.Parser, CommitRequest.Parser,
        CommitReply.Parser, GetViewRequest.Parser, GetViewReply.Parser, View.Parser, TableSet.Parser, DrainReport.Parser, Farm.Protocol.V1.Member.Parser,
    ];

    public static IEnumerable<(string Name, byte[] Data)> Payloads()
    {
        var messages = new IMessage[]
        {
            new HeartbeatRequest { Sender = Member(), ConfigHash = new string('a', 64), Installed = Id(), Promised = Id(), Drains = Drains() },
            new HeartbeatReply { Sender = Member(), ConfigHash = new string('b', 64), Installed = Id(), IncludesYou = true, Drains = Drains() },
            new PrepareRequest { Id = Id(), Members = { Member(), Member("n2") }, Base = Id(), TablesFingerprint = 0x0123456789abcdef, BaseTables = Tables() },
            new PrepareReply { Id = Id(), Accepted = false, Reason = "busy", NeedsBase = true, StillHeard = { Member() }, StillHeardForMs = { 250 } },
            new CommitRequest { Id = Id() },
            new CommitReply { Id = Id(), Installed = true },
            new GetViewRequest(),
            new GetViewReply { View = new View { Id = Id(), Members = { Member(), Member("n2") }, Tables = Tables() } },
            new View { Id = Id(), Members = { Member() }, Tables = Tables() },
            Tables(),
            Drains(),
            Member(),
        };
        for (int i = 0; i < messages.Length; i++)
        {
            yield return ($"seed-{i:00}-{messages[i].Descriptor.Name}.bin", [(byte)i, .. messages[i].ToByteArray()]);
        }
    }

    public static IEnumerable<(string Name, byte[] Data)> Envelopes()
    {
        var codec = new EnvelopeCodec(Key);
        var payloads = Payloads().ToList();
        for (int m = 0; m < Methods.Length; m++)
        {
            var (method, _, _) = Methods[m];
            byte[] request = payloads[2 * m].Data[1..];
            byte[] reply = payloads[(2 * m) + 1].Data[1..];
            var sealedRequest = codec.Seal(method, EnvelopeKind.Request, new Envelope
            {
                Sender = "n1", Incarnation = 1_700_000_000_000, Seq = (ulong)(10 + m), UnixTimeMs = 1_700_000_001_000,
                Recipient = "n2", RecipientIncarnation = 1_700_000_000_500, Protocol = 2, MaxProtocol = 2, Payload = ByteString.CopyFrom(request),
            });
            var sealedReply = codec.Seal(method, EnvelopeKind.Reply, new Envelope
            {
                Sender = "n2", Incarnation = 1_700_000_000_500, Seq = (ulong)(20 + m), UnixTimeMs = 1_700_000_001_001, Lan = 1, ReplyTo = (ulong)(10 + m),
                Recipient = "n1", RecipientIncarnation = 1_700_000_000_000, Protocol = 2, MaxProtocol = 2, Payload = ByteString.CopyFrom(reply),
            });
            string name = method[(method.LastIndexOf('/') + 1)..];
            yield return ($"seed-{name}-request.bin", sealedRequest.ToByteArray());
            yield return ($"seed-{name}-reply.bin", sealedReply.ToByteArray());
        }
    }

    private static Member Member(string name = "n1") =>
        new() { Name = name, Incarnation = 1_700_000_000_000, Weight = 100, Priority = 1, ReadyModules = { "web", "db" } };

    private static ViewId Id() => new() { Epoch = 42, Coordinator = "n1", CoordinatorIncarnation = 1_700_000_000_000 };

    private static TableSet Tables() => new()
    {
        Tables =
        {
            new ModuleTable { Module = "web", Epoch = 42, Members = { "n1", "n2" }, Weights = { 100, 100 }, Owners = ByteString.CopyFrom([0, 0, 1, 0, 0xff, 0xff, 1, 0]) },
        },
    };

    private static DrainReport Drains() => new()
    {
        Reflects = Id(),
        Modules = { new ModuleDrain { Module = "web", DrainingRanges = { 0, 3, 10, 10 }, UdpFlows = ByteString.CopyFrom([4, 198, 18, 0, 1, 0x1f, 0x90]), Incoming = 2, OldestDrainAgeMs = 1500 } },
    };
}

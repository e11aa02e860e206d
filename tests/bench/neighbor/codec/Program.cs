// Frame codec cost of the ARP/NDP responder, in process: parsing a request and building the reply, the NeighborFrames
// of an earlier commit (namespace Before, compiled from `git show`) against this tree's. Built and run only by
// tests/bench/neighbor/codec.sh, which supplies both source files; written for the span API of the hand-written codec
// (before the PacketDotNet migration) and the PacketDotNet one after it.
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using Farm.DataPlane.Neighbors;

var node = PhysicalAddress.Parse("0a-00-00-00-00-01");
var client = PhysicalAddress.Parse("0a-00-00-00-00-99");
var vip4 = IPAddress.Parse("198.18.0.100");
var vip6 = IPAddress.Parse("2001:db8::100");
var vmac4 = PhysicalAddress.Parse("02-46-c6-12-00-64");
var vmac6 = PhysicalAddress.Parse("06-46-f6-ce-68-e7");
byte[] arp = ArpRequest(client, IPAddress.Parse("198.18.1.1"), vip4);
byte[] ns = Solicitation(client, IPAddress.Parse("2001:db8::1:1"), vip6);
byte[] reply = new byte[128];

if (!Before.NeighborFrames.TryParseArpRequest(arp, out _) || !NeighborFrames.TryParseArpRequest(arp, out _)
    || !Before.NeighborFrames.TryParseNeighborSolicitation(ns, out _) || !NeighborFrames.TryParseNeighborSolicitation(ns, out _))
{
    Console.Error.WriteLine("a codec rejected the test frames");
    return 1;
}

// As the responder does: ARP parse first, then (for anything else) NS parse, then build the reply.
var cases = new (string Name, Action Run)[]
{
    ("before: ARP request → reply", () =>
    {
        Before.NeighborFrames.TryParseArpRequest(arp, out var r);
        Before.NeighborFrames.WriteArpReply(reply, node, vmac4, r.TargetAddress, r.SenderMac, r.SenderAddress);
    }),
    ("after: ARP request → reply", () =>
    {
        var e = NeighborFrames.ReadEthernet(arp)!;
        NeighborFrames.TryParseArpRequest(e, out var r);
        NeighborFrames.ArpReply(node, vmac4, r.TargetAddress, r.SenderMac, r.SenderAddress);
    }),
    ("before: NS → NA", () =>
    {
        Before.NeighborFrames.TryParseArpRequest(ns, out _);
        Before.NeighborFrames.TryParseNeighborSolicitation(ns, out var s);
        Before.NeighborFrames.WriteNeighborAdvertisement(reply, node, vmac6, s.Target, s.ReplyMac, s.Source, solicited: true);
    }),
    ("after: NS → NA", () =>
    {
        var e = NeighborFrames.ReadEthernet(ns)!;
        NeighborFrames.TryParseArpRequest(e, out _);
        NeighborFrames.TryParseNeighborSolicitation(e, out var s);
        NeighborFrames.NeighborAdvertisement(node, vmac6, s.Target, s.ReplyMac, s.Source, solicited: true);
    }),
};

const int Iterations = 200_000;
const int Rounds = 5;
var time = TimeProvider.System;
Console.WriteLine("| codec | median of 5 rounds (µs per frame) | min | allocated per frame |");
Console.WriteLine("|---|---:|---:|---:|");
foreach (var (name, run) in cases)
{
    for (int i = 0; i < Iterations / 10; i++)
    {
        run(); // warm-up: tiered JIT reaches its final code
    }

    var rounds = new List<double>();
    long allocated = 0;
    for (int round = 0; round < Rounds; round++)
    {
        long bytes = GC.GetAllocatedBytesForCurrentThread();
        long start = time.GetTimestamp();
        for (int i = 0; i < Iterations; i++)
        {
            run();
        }

        rounds.Add(time.GetElapsedTime(start).TotalMicroseconds / Iterations);
        allocated = (GC.GetAllocatedBytesForCurrentThread() - bytes) / Iterations;
    }

    rounds.Sort();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {rounds[Rounds / 2]:F2} | {rounds[0]:F2} | {allocated} B |"));
}

return 0;

static byte[] ArpRequest(PhysicalAddress sender, IPAddress senderAddress, IPAddress target)
{
    byte[] f = new byte[42];
    f.AsSpan(0, 6).Fill(0xff);
    sender.GetAddressBytes().CopyTo(f, 6);
    byte[] header = [0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1];
    header.CopyTo(f, 12);
    sender.GetAddressBytes().CopyTo(f, 22);
    senderAddress.GetAddressBytes().CopyTo(f, 28);
    target.GetAddressBytes().CopyTo(f, 38);
    return f;
}

static byte[] Solicitation(PhysicalAddress sender, IPAddress source, IPAddress target)
{
    byte[] f = new byte[86];
    byte[] t = target.GetAddressBytes();
    byte[] group = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, t[13], t[14], t[15]];
    byte[] groupMac = [0x33, 0x33, 0xff, t[13], t[14], t[15]];
    groupMac.CopyTo(f, 0);
    sender.GetAddressBytes().CopyTo(f, 6);
    f[12] = 0x86;
    f[13] = 0xdd;
    f[14] = 0x60;
    f[19] = 32;
    f[20] = 58;
    f[21] = 255;
    source.GetAddressBytes().CopyTo(f, 22);
    group.CopyTo(f, 38);
    f[54] = 135;
    t.CopyTo(f, 62);
    f[78] = 1;
    f[79] = 1;
    sender.GetAddressBytes().CopyTo(f, 80);
    uint sum = 32 + 58;
    for (int i = 22; i < 86; i += 2)
    {
        sum += (uint)(f[i] << 8 | f[i + 1]);
    }

    while (sum >> 16 != 0)
    {
        sum = (sum & 0xffff) + (sum >> 16);
    }

    f[56] = (byte)(~sum >> 8);
    f[57] = (byte)~sum;
    return f;
}

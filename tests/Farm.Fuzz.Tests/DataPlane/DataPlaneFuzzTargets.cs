using Farm.DataPlane.Neighbors;
using Farm.Native.Linux;

namespace Farm.Fuzz.Tests.DataPlane;

/// <summary>
/// What the kernel (ctnetlink) and the wire (ARP/NDP, from any host on the LAN) hand the data plane. The ctnetlink
/// parser fails only with <see cref="InvalidDataException"/> or <see cref="NetlinkException"/>; the frame parsers never
/// throw. Each target calls the public parse entry points only, so it survives a rewrite of the code behind them.
/// </summary>
internal static class DataPlaneFuzzTargets
{
    private static readonly IReadOnlyList<byte[]> NetlinkTokens =
    [
        [0x10, 0, 0, 0], [0x14, 0, 0, 0], [0xff, 0xff, 0xff, 0xff], [0, 0, 0, 0], [(byte)DataPlaneSeeds.Sequence, 0, 0, 0],
        [1, 0x80], [2, 0x80], [4, 0x80], [3, 0], [2, 0], [1, 1], [0, 1], [4, 0, 1, 0], [8, 0, 1, 0, 6, 0, 0, 0], [5, 0, 1, 0, 17, 0, 0, 0],
    ];

    /// <summary>A ctnetlink reply datagram through the dump parser, the lookup parser and the end-of-dump probe.</summary>
    internal static FuzzTarget CtnetlinkTarget { get; } = new()
    {
        Name = "ctnetlink",
        Run = input =>
        {
            bool ends = CtnetlinkParser.EndsDump(input, DataPlaneSeeds.Sequence);
            var flows = new List<TrackedFlow>();
            bool parsed = false;
            try
            {
                var progress = CtnetlinkParser.Parse(input, DataPlaneSeeds.Sequence, flows);
                parsed = flows.Count > 0 || progress.Done;
            }
            catch (Exception ex) when (ex is InvalidDataException or NetlinkException)
            {
                // Its validation errors: the lookup parser gets its turn all the same.
            }

            var results = new TrackedFlow?[4];
            bool[] answered = new bool[4];
            int count = CtnetlinkParser.ParseLookupReplies(input, DataPlaneSeeds.Sequence, results, answered);
            if (count != answered.Count(a => a) || count > results.Length)
            {
                throw new FuzzInvariantException($"{count} lookups answered, but {answered.Count(a => a)} marked");
            }

            return parsed || ends;
        },
        IsExpected = ex => ex is InvalidDataException or NetlinkException,
        TimeBound = TimeSpan.FromMilliseconds(100),
        AllocationBound = length => 100_000 + (40L * length),
        MaxLength = 4096,
        Dictionary = NetlinkTokens,
    };

    /// <summary>An Ethernet frame through both neighbor parsers; half the mutated frames get a correct ICMPv6 checksum.</summary>
    internal static FuzzTarget NeighborTarget { get; } = new()
    {
        Name = "neighbors",
        Run = input =>
        {
            bool arp = NeighborFrames.TryParseArpRequest(input, out var request);
            bool ns = NeighborFrames.TryParseNeighborSolicitation(input, out var solicitation);
            if (arp && (request.SenderMac is null || request.TargetAddress is null) || ns && solicitation.Target is null)
            {
                throw new FuzzInvariantException("a parse succeeded with a missing field");
            }

            return arp || ns;
        },
        TimeBound = TimeSpan.FromMilliseconds(50),
        AllocationBound = length => 20_000 + (4L * length),
        MaxLength = 1600,
        Dictionary = [[0x08, 0x06], [0x86, 0xdd], [58, 255], [135, 0], [1, 1], [1, 0], [0, 1, 0x08, 0x00, 6, 4, 0, 1], [0x60, 0, 0, 0]],
        Fixup = (frame, random) =>
        {
            if (random.Next(2) == 0)
            {
                DataPlaneSeeds.FixIcmpv6Checksum(frame);
            }
        },
    };
}

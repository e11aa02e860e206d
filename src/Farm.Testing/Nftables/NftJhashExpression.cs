using System.Text.RegularExpressions;

namespace Farm.Testing.Nftables;

/// <summary>
/// One <c>jhash</c> expression as the kernel receives it, parsed from <c>nft --debug=netlink</c> output:
/// <c>[ hash reg 1 = jhash(reg 2, 8, 0x1234) % mod 1000 ]</c>. It proves how many key bytes the kernel hashes.
/// </summary>
public sealed partial record NftJhashExpression(int SourceRegister, int Length, uint Seed, uint Modulus)
{
    /// <summary>Every jhash expression in <paramref name="debugOutput"/>, in order.</summary>
    public static IReadOnlyList<NftJhashExpression> ParseAll(string debugOutput)
    {
        ArgumentNullException.ThrowIfNull(debugOutput);
        return [.. Pattern().Matches(debugOutput).Select(m => new NftJhashExpression(
            int.Parse(m.Groups["reg"].Value, CultureInfo.InvariantCulture),
            int.Parse(m.Groups["len"].Value, CultureInfo.InvariantCulture),
            uint.Parse(m.Groups["seed"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            uint.Parse(m.Groups["mod"].Value, CultureInfo.InvariantCulture)))];
    }

    [GeneratedRegex(@"jhash\(reg (?<reg>\d+), (?<len>\d+), 0x(?<seed>[0-9a-fA-F]+)\) % mod (?<mod>\d+)")]
    private static partial Regex Pattern();
}

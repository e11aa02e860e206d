namespace Farm.Protocol;

/// <summary>
/// The protocol versions a node speaks, oldest to newest (envelope fields <c>protocol</c>, <c>max_protocol</c>). A
/// release speaks its own version and the previous one, so two nodes one release apart form one farm during a rolling
/// upgrade; a node speaks to each peer the newest version both speak.
/// </summary>
public readonly record struct ProtocolRange(uint Oldest, uint Newest)
{
    /// <summary>Version 2: envelopes bound to their recipient and its run (this release). Version 1 had no binding.</summary>
    public const uint RecipientBinding = 2;

    /// <summary>What this release speaks.</summary>
    public static ProtocolRange Current { get; } = new(RecipientBinding, RecipientBinding);

    /// <summary>True when <paramref name="version"/> is one this node reads and writes.</summary>
    public bool Speaks(uint version) => version >= Oldest && version <= Newest;

    /// <summary>The version to write to a peer whose newest version is <paramref name="peerNewest"/> (0: not heard yet, then our oldest).</summary>
    public uint ToSpeakWith(uint peerNewest) => peerNewest == 0 ? Oldest : Math.Clamp(Math.Min(Newest, peerNewest), Oldest, Newest);

    /// <summary>Parses "N" or "OLDEST-NEWEST" (test override of the range), null when malformed.</summary>
    public static ProtocolRange? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        string[] parts = text.Split('-', 2);
        if (uint.TryParse(parts[0], out uint oldest) && (parts.Length == 1 ? oldest : uint.TryParse(parts[1], out uint n) ? n : 0) is var newest
            && oldest >= 1 && newest >= oldest)
        {
            return new ProtocolRange(oldest, newest);
        }

        return null;
    }

    /// <inheritdoc />
    public override string ToString() => Oldest == Newest ? Oldest.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{Oldest}-{Newest}";
}

namespace Farm.Testing.Capture;

/// <summary>
/// Reads the records of a classic pcap file (as tcpdump <c>-w</c> writes it), in either byte order, with microsecond
/// or nanosecond timestamps. Interpreting the link-layer bytes is the caller's business.
/// </summary>
public ref struct PcapReader
{
    private const int FileHeaderLength = 24;
    private const int RecordHeaderLength = 16;
    private const uint MicrosecondMagic = 0xa1b2c3d4;
    private const uint NanosecondMagic = 0xa1b23c4d;

    private readonly ReadOnlySpan<byte> file;
    private readonly bool little;
    private int offset;

    /// <summary>Reads the file header.</summary>
    /// <exception cref="FormatException">Too short for a pcap file, or a bad magic number.</exception>
    public PcapReader(ReadOnlySpan<byte> file)
    {
        if (file.Length < FileHeaderLength)
        {
            throw new FormatException("Too short for a pcap file.");
        }

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(file);
        little = magic is MicrosecondMagic or NanosecondMagic;
        if (!little)
        {
            magic = BinaryPrimitives.ReadUInt32BigEndian(file);
            if (magic is not (MicrosecondMagic or NanosecondMagic))
            {
                throw new FormatException("Not a pcap file (bad magic number).");
            }
        }

        this.file = file;
        NanosecondTimestamps = magic == NanosecondMagic;
        LinkType = U32(file[20..]);
        offset = FileHeaderLength;
    }

    /// <summary>The link type of every record (1 Ethernet, 113 Linux cooked, 276 Linux cooked v2, ...).</summary>
    public uint LinkType { get; }

    /// <summary>True when the fraction of each timestamp counts nanoseconds, false when microseconds.</summary>
    public bool NanosecondTimestamps { get; }

    /// <summary>
    /// The next record: its timestamp (seconds and fraction) and captured bytes. False at the end of the file, and at a
    /// record cut short (by a killed tcpdump).
    /// </summary>
    public bool TryRead(out uint seconds, out uint fraction, out ReadOnlySpan<byte> data)
    {
        seconds = 0;
        fraction = 0;
        data = default;
        if (offset + RecordHeaderLength > file.Length)
        {
            return false;
        }

        int length = (int)U32(file[(offset + 8)..]);
        if (offset + RecordHeaderLength + length > file.Length)
        {
            return false;
        }

        seconds = U32(file[offset..]);
        fraction = U32(file[(offset + 4)..]);
        data = file.Slice(offset + RecordHeaderLength, length);
        offset += RecordHeaderLength + length;
        return true;
    }

    private readonly uint U32(ReadOnlySpan<byte> s) => little ? BinaryPrimitives.ReadUInt32LittleEndian(s) : BinaryPrimitives.ReadUInt32BigEndian(s);
}

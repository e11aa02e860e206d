namespace Farm.Fuzz.Tests.Fuzzing;

/// <summary>Deterministic byte-level mutations in the spirit of libFuzzer's: stacked edits, dictionary tokens, splices.</summary>
internal sealed class Mutator(Random random, IReadOnlyList<byte[]> dictionary, int maxLength)
{
    private static readonly byte[] InterestingBytes = [0, 1, 0x7f, 0x80, 0xff, (byte)'\n', (byte)' ', (byte)'0', 0x1b];
    private static readonly uint[] InterestingWords = [0, 1, 2, 3, 4, 8, 16, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

    /// <summary>A mutated copy of <paramref name="input"/>; <paramref name="other"/> is a second corpus entry for splices.</summary>
    public byte[] Mutate(byte[] input, byte[] other)
    {
        var data = new List<byte>(input);
        int edits = 1 << random.Next(4); // 1, 2, 4 or 8 stacked edits
        for (int i = 0; i < edits; i++)
        {
            MutateOnce(data, other);
        }

        if (data.Count > maxLength)
        {
            data.RemoveRange(maxLength, data.Count - maxLength);
        }

        return [.. data];
    }

    private void MutateOnce(List<byte> data, byte[] other)
    {
        int at = data.Count == 0 ? 0 : random.Next(data.Count);
        switch (random.Next(13))
        {
            case 0 when data.Count > 0:
                data[at] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when data.Count > 0:
                data[at] = InterestingBytes[random.Next(InterestingBytes.Length)];
                break;
            case 2 when data.Count > 0:
                data[at] = (byte)random.Next(256);
                break;
            case 3:
                data.InsertRange(at, RandomBytes(random.Next(1, 9)));
                break;
            case 4 when data.Count > 0:
                data.RemoveRange(at, Math.Min(data.Count - at, random.Next(1, 17)));
                break;
            case 5 when data.Count > 0:
                // Duplicate a range: grows lists, repeats attributes and messages.
                int length = Math.Min(data.Count - at, random.Next(1, 65));
                data.InsertRange(random.Next(data.Count + 1), data.GetRange(at, length));
                break;
            case 6 when dictionary.Count > 0:
                data.InsertRange(at, dictionary[random.Next(dictionary.Count)]);
                break;
            case 7 when dictionary.Count > 0 && data.Count > 0:
                byte[] token = dictionary[random.Next(dictionary.Count)];
                for (int i = 0; i < token.Length && at + i < data.Count; i++)
                {
                    data[at + i] = token[i];
                }

                break;
            case 8 when data.Count >= at + 4:
                WriteWord(data, at, InterestingWords[random.Next(InterestingWords.Length)]);
                break;
            case 9 when other.Length > 0:
                // Splice: a piece of another input.
                int from = random.Next(other.Length);
                data.InsertRange(at, other.AsSpan(from, Math.Min(other.Length - from, random.Next(1, 129))).ToArray());
                break;
            case 10 when data.Count > 0:
                data.RemoveRange(at, data.Count - at);
                break;
            case 11 when data.Count > 0:
                // Repeat a short range many times: nesting, long lists, runaway numbers.
                int size = Math.Min(data.Count - at, random.Next(1, 5));
                var piece = data.GetRange(at, size);
                int times = random.Next(2) == 0 ? random.Next(2, 16) : random.Next(16, 2048);
                for (int i = 0; i < times && data.Count < maxLength; i++)
                {
                    data.InsertRange(at, piece);
                }

                break;
            case 12 when data.Count >= at + 2:
                // A length-ish field off by a little.
                ushort value = (ushort)(data[at] | (data[at + 1] << 8));
                value = (ushort)(value + random.Next(-4, 5));
                data[at] = (byte)value;
                data[at + 1] = (byte)(value >> 8);
                break;
            default:
                data.Insert(at, InterestingBytes[random.Next(InterestingBytes.Length)]);
                break;
        }
    }

    private void WriteWord(List<byte> data, int at, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        if (random.Next(2) == 0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        }

        int width = random.Next(2) == 0 ? 2 : 4;
        for (int i = 0; i < width; i++)
        {
            data[at + i] = bytes[i];
        }
    }

    private byte[] RandomBytes(int count)
    {
        byte[] bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}

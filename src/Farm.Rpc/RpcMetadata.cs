using System.Collections;

namespace Farm.Rpc;

/// <summary>Custom metadata of a call (HTTP/2 headers): ASCII text values, or binary values under keys ending in <c>-bin</c>.</summary>
/// <remarks>
/// Keys are case-insensitive and stored lowercase, as HTTP/2 requires. Binary values travel base64-encoded,
/// as the gRPC spec prescribes for <c>-bin</c> keys. A key may occur more than once.
/// </remarks>
public sealed class RpcMetadata : IEnumerable<KeyValuePair<string, string>>
{
    /// <summary>Suffix that marks a key whose value is binary.</summary>
    public const string BinarySuffix = "-bin";

    // Headers that the transport owns; letting a caller set them would break the call framing.
    private static readonly HashSet<string> ReservedKeys = new(StringComparer.Ordinal)
    {
        "te", "content-type", "content-length", "host", "user-agent", "connection", "transfer-encoding",
        "upgrade", "keep-alive", "proxy-connection", "content-encoding", "accept-encoding",
    };

    private readonly List<KeyValuePair<string, string>> entries = [];

    /// <summary>Number of entries (a repeated key counts once per value).</summary>
    public int Count => entries.Count;

    /// <summary>Adds a text entry; <paramref name="value"/> must be printable ASCII.</summary>
    /// <returns>This instance, for chaining.</returns>
    public RpcMetadata Add(string key, string value)
    {
        string normalized = ValidateKey(key);
        if (IsBinaryKey(normalized))
        {
            throw new ArgumentException($"Key '{key}' ends in '{BinarySuffix}'; add binary values as bytes.", nameof(key));
        }

        ArgumentNullException.ThrowIfNull(value);
        foreach (char c in value)
        {
            if (c is < ' ' or > '~')
            {
                throw new ArgumentException($"The value of '{key}' must be printable ASCII; use a '{BinarySuffix}' key for other data.", nameof(value));
            }
        }

        entries.Add(new(normalized, value));
        return this;
    }

    /// <summary>Adds a binary entry; <paramref name="key"/> must end in <c>-bin</c>.</summary>
    /// <returns>This instance, for chaining.</returns>
    public RpcMetadata Add(string key, ReadOnlySpan<byte> value)
    {
        string normalized = ValidateKey(key);
        if (!IsBinaryKey(normalized))
        {
            throw new ArgumentException($"Binary values need a key ending in '{BinarySuffix}'.", nameof(key));
        }

        entries.Add(new(normalized, Convert.ToBase64String(value)));
        return this;
    }

    /// <summary>The first value of <paramref name="key"/> (base64 text for binary keys), or null.</summary>
    public string? GetValue(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        foreach (var entry in entries)
        {
            if (string.Equals(entry.Key, key, StringComparison.OrdinalIgnoreCase))
            {
                return entry.Value;
            }
        }

        return null;
    }

    /// <summary>Every value of <paramref name="key"/>, in the order received.</summary>
    public IReadOnlyList<string> GetValues(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return entries
            .Where(e => string.Equals(e.Key, key, StringComparison.OrdinalIgnoreCase))
            .Select(e => e.Value)
            .ToList();
    }

    /// <summary>The first value of a <c>-bin</c> key, decoded, or null when absent or not valid base64.</summary>
    public byte[]? GetBytes(string key)
    {
        string? text = GetValue(key);
        return text is null ? null : TryDecodeBase64(text);
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Adds an entry received from the wire, where the peer's transport already validated it.</summary>
    internal void AddReceived(string key, string value) => entries.Add(new(key.ToLowerInvariant(), value));

    /// <summary>True for headers that gRPC or HTTP/2 reserve and that therefore never count as metadata.</summary>
    internal static bool IsReserved(string key) =>
        key.Length == 0 || key[0] == ':' || key.StartsWith("grpc-", StringComparison.OrdinalIgnoreCase)
        || ReservedKeys.Contains(key.ToLowerInvariant());

    /// <summary>
    /// True for received headers that handlers see as metadata: everything not reserved, plus <c>user-agent</c>,
    /// which only the transport may set but which tells a server what kind of client is calling.
    /// </summary>
    internal static bool IsVisibleOnReceive(string key) =>
        string.Equals(key, "user-agent", StringComparison.OrdinalIgnoreCase) || !IsReserved(key);

    private static bool IsBinaryKey(string key) => key.EndsWith(BinarySuffix, StringComparison.Ordinal);

    private static string ValidateKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        string normalized = key.ToLowerInvariant();
        foreach (char c in normalized)
        {
            if (!char.IsAsciiDigit(c) && !char.IsAsciiLetterLower(c) && c is not ('-' or '_' or '.'))
            {
                throw new ArgumentException($"Metadata key '{key}' may contain only 0-9, a-z, '-', '_' and '.'.", nameof(key));
            }
        }

        if (IsReserved(normalized))
        {
            throw new ArgumentException($"Metadata key '{key}' is reserved by gRPC or HTTP/2.", nameof(key));
        }

        return normalized;
    }

    private static byte[]? TryDecodeBase64(string text)
    {
        // Peers may send unpadded base64 (the spec allows it) and several values joined by commas; take the first.
        int comma = text.IndexOf(',', StringComparison.Ordinal);
        string first = (comma >= 0 ? text[..comma] : text).Trim();
        int padding = (4 - (first.Length % 4)) % 4;
        if (padding == 3)
        {
            return null;
        }

        try
        {
            return Convert.FromBase64String(first + new string('=', padding));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

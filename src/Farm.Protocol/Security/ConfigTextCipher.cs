using System.Security.Cryptography;
using System.Text;

namespace Farm.Protocol.Security;

/// <summary>
/// Encrypts a cluster file's text for <c>ApplyConfig</c> over TCP (layout in proto/farm/v1/admin.proto,
/// <c>ConfigApplyQuery.encrypted_text</c>): the file holds the cluster key, and envelopes only authenticate.
/// AES-256-GCM under a key derived from the cluster key for this purpose only. Thread-safe.
/// </summary>
public sealed class ConfigTextCipher
{
    /// <summary>HKDF "info" label of the encryption key.</summary>
    public const string KeyPurpose = "farm/v1 config text";

    private const int NonceLength = 12;
    private const int TagLength = 16;
    private readonly byte[] key;

    /// <summary>Derives the encryption key from <paramref name="clusterKey"/> (the cluster file's <c>key</c>).</summary>
    public ConfigTextCipher(string clusterKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(clusterKey);
        key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(clusterKey), 32, [], Encoding.ASCII.GetBytes(KeyPurpose));
    }

    /// <summary>nonce || ciphertext || tag of <paramref name="text"/>, with a fresh random nonce.</summary>
    public byte[] Encrypt(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        byte[] plain = Encoding.UTF8.GetBytes(text);
        byte[] sealedText = new byte[NonceLength + plain.Length + TagLength];
        var nonce = sealedText.AsSpan(0, NonceLength);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagLength);
        aes.Encrypt(nonce, plain, sealedText.AsSpan(NonceLength, plain.Length), sealedText.AsSpan(NonceLength + plain.Length));
        return sealedText;
    }

    /// <summary>The text, or null when <paramref name="sealedText"/> was not encrypted with this key or was altered.</summary>
    public string? Decrypt(ReadOnlySpan<byte> sealedText)
    {
        if (sealedText.Length < NonceLength + TagLength)
        {
            return null;
        }

        int length = sealedText.Length - NonceLength - TagLength;
        byte[] plain = new byte[length];
        try
        {
            using var aes = new AesGcm(key, TagLength);
            aes.Decrypt(sealedText[..NonceLength], sealedText.Slice(NonceLength, length), sealedText[^TagLength..], plain);
            return Encoding.UTF8.GetString(plain);
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
    }
}

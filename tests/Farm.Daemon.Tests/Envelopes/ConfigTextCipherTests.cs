namespace Farm.Daemon.Tests.Envelopes;

[TestClass]
public sealed class ConfigTextCipherTests
{
    private const string Key = "config-cipher-test-key-0123456789";
    private const string Text = "cluster:\n  name: demo\n  key: \"a secret that must not travel in the clear\"\n";

    [TestMethod]
    public void Decrypt_WhatEncryptWrote_GivesTheTextBackAndHidesIt()
    {
        var cipher = new ConfigTextCipher(Key);
        byte[] sealedText = cipher.Encrypt(Text);

        Assert.AreEqual(Text, cipher.Decrypt(sealedText));
        Assert.AreEqual(-1, System.Text.Encoding.UTF8.GetString(sealedText).IndexOf("secret", StringComparison.Ordinal), "the text is not readable on the wire");
        Assert.AreEqual(12 + System.Text.Encoding.UTF8.GetByteCount(Text) + 16, sealedText.Length);
    }

    [TestMethod]
    public void Encrypt_SameTextTwice_DiffersByItsNonce() =>
        CollectionAssert.AreNotEqual(new ConfigTextCipher(Key).Encrypt(Text), new ConfigTextCipher(Key).Encrypt(Text));

    [TestMethod]
    public void Decrypt_OtherKeyAlteredOrShort_Null()
    {
        byte[] sealedText = new ConfigTextCipher(Key).Encrypt(Text);
        Assert.IsNull(new ConfigTextCipher("another-cluster-key-0123456789").Decrypt(sealedText));

        byte[] altered = (byte[])sealedText.Clone();
        altered[20] ^= 1;
        Assert.IsNull(new ConfigTextCipher(Key).Decrypt(altered));
        Assert.IsNull(new ConfigTextCipher(Key).Decrypt(sealedText.AsSpan(0, 27)));
    }
}

namespace Farm.Core.Tests.Hashing;

[TestClass]
public sealed class KernelJhashTests
{
    [TestMethod]
    public void Hash_EveryLengthFrom0To40_EqualsReferenceTranscription()
    {
        // Fixed seed: the test must be reproducible; many keys per length cover all tail cases and block counts.
        var random = new Random(20261122);
        for (int length = 0; length <= 40; length++)
        {
            for (int trial = 0; trial < 200; trial++)
            {
                byte[] key = new byte[length];
                random.NextBytes(key);
                uint seed = trial switch { 0 => 0, 1 => uint.MaxValue, _ => (uint)random.NextInt64(0, 1L << 32) };

                Assert.AreEqual(
                    ReferenceJhash.Hash(key, seed),
                    KernelJhash.Hash(key, seed),
                    $"length {length}, seed 0x{seed:x8}, key {Convert.ToHexString(key)}");
            }
        }
    }

    [TestMethod]
    public void Hash_AllOnesAndAllZeroKeys_EqualsReferenceTranscription()
    {
        // Extreme bytes catch sign-extension and carry mistakes that random bytes may miss.
        for (int length = 0; length <= 40; length++)
        {
            byte[] ones = Enumerable.Repeat((byte)0xff, length).ToArray();
            byte[] zeros = new byte[length];
            Assert.AreEqual(ReferenceJhash.Hash(ones, 0xdeadbeef), KernelJhash.Hash(ones, 0xdeadbeef), $"0xff x {length}");
            Assert.AreEqual(ReferenceJhash.Hash(zeros, 7), KernelJhash.Hash(zeros, 7), $"0x00 x {length}");
        }
    }

    [TestMethod]
    [DataRow("", 0u, 0xdeadbeefu)]
    [DataRow("", 0xdeadbeefu, 0xbd5b7ddeu)]
    [DataRow("Four score and seven years ago", 0u, 0x17770551u)]
    [DataRow("Four score and seven years ago", 1u, 0xcd628161u)]
    public void Hash_Lookup3PublishedVectors_MatchesHashlittle(string text, uint seed, uint expected)
    {
        // Bob Jenkins' lookup3.c self-test values for hashlittle(), which jhash() equals on little-endian CPUs.
        Assert.AreEqual(expected, KernelJhash.Hash(Encoding.ASCII.GetBytes(text), seed));
    }

    [TestMethod]
    public void Hash_EmptyKey_ReturnsStateWithoutFinalMix()
    {
        // Length 0 skips __jhash_final: the result is the initial state itself.
        Assert.AreEqual(KernelJhash.InitVal + 42u, KernelJhash.Hash([], 42));
    }

    [TestMethod]
    public void Hash_OneByteDifference_ChangesHash()
    {
        byte[] key = [198, 18, 0, 1];
        byte[] other = [198, 18, 0, 2];
        Assert.AreNotEqual(KernelJhash.Hash(key, 1), KernelJhash.Hash(other, 1));
        Assert.AreNotEqual(KernelJhash.Hash(key, 1), KernelJhash.Hash(key, 2));
    }
}

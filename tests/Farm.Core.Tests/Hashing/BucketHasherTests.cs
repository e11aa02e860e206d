namespace Farm.Core.Tests.Hashing;

[TestClass]
public sealed class BucketHasherTests
{
    [TestMethod]
    [DataRow(0u, 4096u, 0u)]
    [DataRow(uint.MaxValue, 4096u, 4095u)]
    [DataRow(0x80000000u, 4096u, 2048u)]
    [DataRow(0x7fffffffu, 4096u, 2047u)]
    [DataRow(0x00100000u, 4096u, 1u)]
    [DataRow(0x000fffffu, 4096u, 0u)]
    [DataRow(uint.MaxValue, 1000u, 999u)]
    [DataRow(0x80000000u, 1000u, 500u)]
    [DataRow(0x80000000u, 3u, 1u)]
    [DataRow(uint.MaxValue, 1u, 0u)]
    [DataRow(12345u, 0u, 0u)]
    [DataRow(uint.MaxValue, uint.MaxValue, uint.MaxValue - 1)]
    public void ReciprocalScale_EdgeValues_ReturnsHighWordOfProduct(uint value, uint n, uint expected)
    {
        Assert.AreEqual(expected, BucketHasher.ReciprocalScale(value, n));
    }

    [TestMethod]
    public void ReciprocalScale_RandomValues_StaysBelowNAndEqualsWideMultiply()
    {
        var random = new Random(4096);
        for (int i = 0; i < 10_000; i++)
        {
            uint value = (uint)random.NextInt64(0, 1L << 32);
            uint n = (uint)random.NextInt64(1, 1L << 32);
            uint scaled = BucketHasher.ReciprocalScale(value, n);
            Assert.IsLessThan(n, scaled);
            Assert.AreEqual((uint)(((UInt128)value * n) >> 32), scaled);
        }
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(-1)]
    [DataRow(int.MinValue)]
    public void Constructor_BucketCountBelowOne_Throws(int buckets)
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BucketHasher(buckets, 1));
    }

    [TestMethod]
    public void BucketOf_PortAffinityWithoutPort_Throws()
    {
        var hasher = new BucketHasher(4096, 1);
        var key = new ClientKey(IPAddress.Parse("198.18.0.1"));

        var e = Assert.ThrowsExactly<ArgumentException>(() => hasher.BucketOf(key, Affinity.ClientIpPort));
        StringAssert.Contains(e.Message, "port");
    }

    [TestMethod]
    public void BucketOf_Key_EqualsReciprocalScaleOfJhashOverLaidOutBytes()
    {
        var hasher = new BucketHasher(1000, 0x5eed);
        var key = new ClientKey(IPAddress.Parse("2001:db8::42"), 443);
        byte[] bytes = [.. IPAddress.Parse("2001:db8::42").GetAddressBytes(), 0x01, 0xbb, 0, 0];

        int expected = (int)BucketHasher.ReciprocalScale(ReferenceJhash.Hash(bytes, 0x5eed), 1000);

        Assert.AreEqual(expected, hasher.BucketOf(key, Affinity.ClientIpPort));
        Assert.AreEqual(expected, hasher.BucketOf(bytes));
    }

    [TestMethod]
    public void BucketOf_AddressAffinity_IgnoresPort()
    {
        var hasher = new BucketHasher(4096, 99);
        var address = IPAddress.Parse("198.19.255.254");
        Assert.AreEqual(
            hasher.BucketOf(new ClientKey(address), Affinity.ClientIp),
            hasher.BucketOf(new ClientKey(address, 40000), Affinity.ClientIp));
    }

    [TestMethod]
    public void BucketOf_ManyAddresses_SpreadsOverEveryBucketOfSmallTable()
    {
        // A sanity check of the whole pipeline: 16 buckets must all be hit by 1000 addresses.
        var hasher = new BucketHasher(16, 1234);
        var hit = new HashSet<int>();
        for (int i = 0; i < 1000; i++)
        {
            int bucket = hasher.BucketOf(new ClientKey(new IPAddress(new byte[] { 198, 18, (byte)(i >> 8), (byte)i })), Affinity.ClientIp);
            Assert.IsTrue(bucket is >= 0 and < 16, $"bucket {bucket}");
            hit.Add(bucket);
        }

        Assert.HasCount(16, hit);
    }
}

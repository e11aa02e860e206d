using System.Net;
using BenchmarkDotNet.Attributes;
using Farm.Core.Buckets;
using Farm.Core.Hashing;

namespace Farm.Benchmarks;

/// <summary>
/// Per-packet cost of the user-space filter path: lay out the client key, jhash it into a bucket, look up the
/// bucket's owner. Each invocation processes <see cref="Keys"/> distinct clients so branch prediction and caches
/// see a realistic spread; results are per packet.
/// </summary>
[MemoryDiagnoser]
public class PacketLookupBenchmarks
{
    private const int Keys = 1024;
    private const uint Seed = 0x5eed_f00d;

    private readonly BucketHasher hasher = new(BucketTable.DefaultBucketCount, Seed);
    private byte[][] ipv4 = [];
    private byte[][] ipv4Port = [];
    private byte[][] ipv6 = [];
    private byte[][] ipv6Port = [];
    private ClientKey[] ipv6PortKeys = [];
    private int[] buckets = [];
    private BucketTable table = BucketTable.Empty();

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        var v4 = new ClientKey[Keys];
        var v6 = new ClientKey[Keys];
        for (int i = 0; i < Keys; i++)
        {
            byte[] address4 = new byte[4];
            byte[] address6 = new byte[16];
            random.NextBytes(address4);
            random.NextBytes(address6);
            ushort port = (ushort)random.Next(1024, 65536);
            v4[i] = new ClientKey(new IPAddress(address4), port);
            v6[i] = new ClientKey(new IPAddress(address6), port);
        }

        ipv4 = Layout(v4, Affinity.ClientIp);
        ipv4Port = Layout(v4, Affinity.ClientIpPort);
        ipv6 = Layout(v6, Affinity.ClientIp);
        ipv6Port = Layout(v6, Affinity.ClientIpPort);
        ipv6PortKeys = v6;
        buckets = ipv4.Select(key => hasher.BucketOf(key)).ToArray();
        table = BenchmarkTables.Balanced(BucketTable.DefaultBucketCount, BenchmarkTables.Members(64));
    }

    [Benchmark(OperationsPerInvoke = Keys)]
    public int Ipv4_JhashBucket() => HashAll(ipv4);

    [Benchmark(OperationsPerInvoke = Keys)]
    public int Ipv4Port_JhashBucket() => HashAll(ipv4Port);

    [Benchmark(OperationsPerInvoke = Keys)]
    public int Ipv6_JhashBucket() => HashAll(ipv6);

    [Benchmark(OperationsPerInvoke = Keys)]
    public int Ipv6Port_JhashBucket() => HashAll(ipv6Port);

    [Benchmark(OperationsPerInvoke = Keys)]
    public int Ipv6Port_FromClientKey_LayoutJhashBucket()
    {
        int sum = 0;
        foreach (var key in ipv6PortKeys)
        {
            sum += hasher.BucketOf(key, Affinity.ClientIpPort);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Keys)]
    public int OwnerIndexOfBucket_64Nodes()
    {
        var snapshot = table;
        int sum = 0;
        foreach (int bucket in buckets)
        {
            sum += snapshot.OwnerIndexOf(bucket);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Keys)]
    public int Ipv4Port_JhashBucketOwner()
    {
        var snapshot = table;
        int sum = 0;
        foreach (byte[] key in ipv4Port)
        {
            sum += snapshot.OwnerIndexOf(hasher.BucketOf(key));
        }

        return sum;
    }

    private int HashAll(byte[][] keys)
    {
        int sum = 0;
        foreach (byte[] key in keys)
        {
            sum += hasher.BucketOf(key);
        }

        return sum;
    }

    private static byte[][] Layout(ClientKey[] keys, Affinity affinity) =>
        keys.Select(key =>
        {
            Span<byte> buffer = stackalloc byte[NftKeyLayout.MaxLength];
            int length = NftKeyLayout.Write(key, affinity, buffer);
            return buffer[..length].ToArray();
        }).ToArray();
}

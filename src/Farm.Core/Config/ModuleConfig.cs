using System.Net;
using Farm.Core.Buckets;

namespace Farm.Core.Config;

/// <summary>A module's <c>farm.yaml</c> (top-level key <c>module:</c>): what the partner's application serves and how its health is judged.</summary>
public sealed record ModuleConfig
{
    /// <summary>Default of <see cref="Buckets"/>.</summary>
    public const int DefaultBuckets = BucketTable.DefaultBucketCount;

    /// <summary>Fewest buckets accepted.</summary>
    public const int MinBuckets = BucketTable.MinBucketCount;

    /// <summary>Most buckets accepted.</summary>
    public const int MaxBuckets = BucketTable.MaxBucketCount;

    /// <summary>Default of <see cref="Seed"/>: 0x6661726d, the ASCII bytes of "farm". Any fixed value works as long as all nodes agree.</summary>
    public const uint DefaultSeed = 0x6661726d;

    /// <summary><c>name</c>: module name, lower-case letters, digits and '-', at most 63 characters. Required.</summary>
    public required string Name { get; init; }

    /// <summary><c>vips</c>: the virtual IPs (IPv4 and/or IPv6 unicast, unique) every node binds. Required, at least one.</summary>
    public required IReadOnlyList<IPAddress> Vips { get; init; }

    /// <summary><c>interface</c>: the network interface that carries the VIPs, e.g. eth0. Required.</summary>
    public required string Interface { get; init; }

    /// <summary><c>mode</c>: <c>balance</c> (all nodes serve) or <c>single</c> (active/passive). Default <c>balance</c>.</summary>
    public ModuleMode Mode { get; init; } = ModuleMode.Balance;

    /// <summary><c>failback</c>: in <c>single</c> mode, hand the traffic back to a returning node of higher priority. Default false; only valid with mode single.</summary>
    public bool Failback { get; init; }

    /// <summary><c>buckets</c>: number of hash buckets, a power of two from 256 to 65536. Default 4096.</summary>
    public int Buckets { get; init; } = DefaultBuckets;

    /// <summary><c>seed</c>: the jhash seed (uint32, decimal or 0x hex) every node programs identically. Default 0x6661726d.</summary>
    public uint Seed { get; init; } = DefaultSeed;

    /// <summary><c>rules</c>: the load-balanced ports; at least one; ranges of one protocol must not overlap.</summary>
    public required IReadOnlyList<PortRuleConfig> Rules { get; init; }

    /// <summary><c>vmac_mode</c>: <c>unicast_filter</c> or <c>promiscuous</c>. Default <c>unicast_filter</c>.</summary>
    public VmacMode VmacMode { get; init; } = VmacMode.UnicastFilter;

    /// <summary><c>arp</c>: address announcement. Defaults: see <see cref="ArpOptions"/>.</summary>
    public ArpOptions Arp { get; init; } = new();

    /// <summary><c>timeouts</c>: state transition limits. Defaults: see <see cref="ModuleTimeoutOptions"/>.</summary>
    public ModuleTimeoutOptions Timeouts { get; init; } = new();

    /// <summary><c>scripts</c>: per-script overrides, keyed by script name. Default none.</summary>
    public IReadOnlyList<ScriptConfig> Scripts { get; init; } = [];

    /// <summary><c>checkers</c>: health checkers. Default none.</summary>
    public IReadOnlyList<CheckerConfig> Checkers { get; init; } = [];

    /// <summary><c>recovery</c>: escalation of repeated failures. Defaults: see <see cref="RecoveryOptions"/>.</summary>
    public RecoveryOptions Recovery { get; init; } = new();

    /// <summary>
    /// The hash of the settings every node must agree on (<see cref="ModuleConfigHasher"/>): nodes announce it per
    /// module, and a node whose hash differs from the one the view agreed on gets none of this module's buckets.
    /// </summary>
    public string ComputeHash() => ModuleConfigHasher.Hash(ModuleConfigHasher.Lines(this));

    /// <summary>The time limit of <paramref name="script"/>: its override, else <c>timeouts.start</c> or <c>timeouts.stop</c>.</summary>
    public TimeSpan ScriptTimeout(string script) =>
        Scripts.FirstOrDefault(s => s.Name == script)?.Timeout
        ?? (ScriptConfig.IsStartScript(script) ? Timeouts.Start : Timeouts.Stop);
}

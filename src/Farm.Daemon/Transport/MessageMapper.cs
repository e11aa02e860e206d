using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Farm.Core.Buckets;
using Google.Protobuf;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Transport;

/// <summary>
/// Maps the membership records to and from their protobuf messages at the transport edge. Tables travel as member
/// names, weights and packed int16 owner indices. Malformed input throws <see cref="FormatException"/>.
/// </summary>
/// <remarks>
/// What a peer sends is checked against <see cref="MessageLimits"/> before anything is expanded: member, module and
/// range counts, drain ranges (ascending, disjoint, within the module's bucket count, each module once) and UDP flow
/// lists (whole entries of address length 4 or 16). A drain report expands ranges into bucket lists, so without the
/// node's bucket counts a small message could grow a thousandfold; with them the lists hold at most the node's own
/// bucket count per module, and everything else stays within a small multiple of the message's size.
/// </remarks>
internal static class MessageMapper
{
    /// <summary>The gRPC path of the method that carries a request record.</summary>
    public static string MethodOf(MembershipMessage request) => request switch
    {
        HeartbeatRequest => MethodPaths.Heartbeat,
        PrepareRequest => MethodPaths.Prepare,
        CommitRequest => MethodPaths.Commit,
        GetViewRequest => MethodPaths.GetView,
        _ => throw new ArgumentException($"{request?.GetType().Name} is not a membership request.", nameof(request)),
    };

    /// <summary>The protobuf message of a request or reply record.</summary>
    public static IMessage ToProto(MembershipMessage message) => message switch
    {
        HeartbeatRequest m => new Wire.HeartbeatRequest
        {
            Sender = ToProto(m.Sender), ConfigHash = m.ConfigHash, Installed = ToProto(m.Installed), Promised = ToProto(m.Promised), WitnessLost = m.WitnessLost,
            Drains = ToProto(m.Drains), Quiet = m.Quiet, Gone = { m.Gone ?? [] },
        }.WithClocks(m.SentAt, m.Echo),
        HeartbeatReply m => new Wire.HeartbeatReply
        {
            Sender = ToProto(m.Sender), ConfigHash = m.ConfigHash, Installed = ToProto(m.Installed), Promised = ToProto(m.Promised), IncludesYou = m.IncludesYou,
            WitnessLost = m.WitnessLost, Drains = ToProto(m.Drains),
        },
        PrepareRequest m => ToProto(m),
        PrepareReply m => ToProto(m),
        CommitRequest m => new Wire.CommitRequest { Id = ToProto(m.Id) },
        CommitReply m => new Wire.CommitReply { Id = ToProto(m.Id), Installed = m.Installed },
        GetViewRequest => new Wire.GetViewRequest(),
        GetViewReply m => new Wire.GetViewReply { View = m.View is null ? null : ToProto(m.View) },
        _ => throw new ArgumentException($"Unexpected message {message?.GetType().Name}.", nameof(message)),
    };

    /// <summary>Parses the request payload of <paramref name="method"/> within <see cref="MessageLimits.Unconfigured"/>.</summary>
    /// <remarks>Callers that know the node (<c>MembershipHost.Limits</c>) should pass its limits: only they bound drain reports tightly.</remarks>
    public static MembershipMessage ParseRequest(string method, ByteString payload) => ParseRequest(method, payload, MessageLimits.Unconfigured);

    /// <summary>Parses the request payload of <paramref name="method"/>; refuses what exceeds <paramref name="limits"/>.</summary>
    public static MembershipMessage ParseRequest(string method, ByteString payload, MessageLimits limits) => Parse(method, "request", limits, () => method switch
    {
        _ when method == MethodPaths.Heartbeat => FromProto(Wire.HeartbeatRequest.Parser.ParseFrom(payload), limits),
        _ when method == MethodPaths.Prepare => FromProto(Wire.PrepareRequest.Parser.ParseFrom(payload), limits),
        _ when method == MethodPaths.Commit => new CommitRequest(Required(Wire.CommitRequest.Parser.ParseFrom(payload).Id, "id")),
        _ when method == MethodPaths.GetView => ParseEmpty(payload),
        _ => throw new FormatException($"Unknown membership method {method}."),
    });

    /// <summary>Parses the reply payload of <paramref name="method"/> within <see cref="MessageLimits.Unconfigured"/>.</summary>
    /// <remarks>Callers that know the node (<c>MembershipHost.Limits</c>) should pass its limits: only they bound drain reports tightly.</remarks>
    public static MembershipMessage ParseReply(string method, ByteString payload) => ParseReply(method, payload, MessageLimits.Unconfigured);

    /// <summary>Parses the reply payload of <paramref name="method"/>; refuses what exceeds <paramref name="limits"/>.</summary>
    public static MembershipMessage ParseReply(string method, ByteString payload, MessageLimits limits) => Parse(method, "reply", limits, () => method switch
    {
        _ when method == MethodPaths.Heartbeat => FromProto(Wire.HeartbeatReply.Parser.ParseFrom(payload), limits),
        _ when method == MethodPaths.Prepare => FromProto(Wire.PrepareReply.Parser.ParseFrom(payload), limits),
        _ when method == MethodPaths.Commit => FromProto(Wire.CommitReply.Parser.ParseFrom(payload)),
        _ when method == MethodPaths.GetView => new GetViewReply(
            Wire.GetViewReply.Parser.ParseFrom(payload).View is { } v ? FromProto(v, limits) : null),
        _ => throw new FormatException($"Unknown membership method {method}."),
    });

    /// <summary>Runs one parse; protobuf and range errors become a <see cref="FormatException"/> naming the method and what was parsed.</summary>
    private static MembershipMessage Parse(string method, string what, MessageLimits limits, Func<MembershipMessage> parse)
    {
        ArgumentNullException.ThrowIfNull(limits);
        try
        {
            return parse();
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or ArgumentException)
        {
            throw new FormatException($"Malformed {method} {what}: {ex.Message}", ex);
        }
    }

    public static Wire.Member ToProto(MemberInfo m)
    {
        var p = new Wire.Member { Name = m.Name, Incarnation = m.Incarnation, Weight = m.Weight, Priority = m.Priority, Leaving = m.Leaving };
        p.ReadyModules.AddRange(m.ReadyModules);
        foreach (var d in m.Definitions)
        {
            var w = new Wire.ModuleDefinition { Module = d.Module, Hash = d.Hash, Buckets = d.BucketCount, Single = d.Mode == BucketMode.Single, Failback = d.Failback };
            w.Settings.AddRange(d.Settings);
            p.Definitions.Add(w);
        }

        return p;
    }

    /// <summary>Most canonical lines a module definition may carry (a module has a few settings and at most this many rules).</summary>
    private const int MaxDefinitionLines = 1024;

    private static ImmutableArray<ModuleDefinition> FromProto(string member, Google.Protobuf.Collections.RepeatedField<Wire.ModuleDefinition> definitions)
    {
        if (definitions.Count > MessageLimits.MaxModules)
        {
            throw new FormatException($"Member '{member}' defines {definitions.Count} modules, more than {MessageLimits.MaxModules}.");
        }

        var result = ImmutableArray.CreateBuilder<ModuleDefinition>(definitions.Count);
        foreach (var d in definitions)
        {
            if (d.Module.Length == 0 || d.Hash.Length == 0 || d.Settings.Count > MaxDefinitionLines ||
                d.Buckets < BucketTable.MinBucketCount || d.Buckets > BucketTable.MaxBucketCount)
            {
                throw new FormatException($"Member '{member}' has a malformed definition of module '{d.Module}'.");
            }

            result.Add(new ModuleDefinition(d.Module, d.Hash, d.Buckets, d.Single ? BucketMode.Single : BucketMode.Balance, d.Failback, [.. d.Settings]));
        }

        return [.. result.OrderBy(d => d.Module, StringComparer.Ordinal)];
    }

    public static MemberInfo FromProto(Wire.Member? m)
    {
        m = Required(m, "member");
        if (m.Name.Length == 0)
        {
            throw new FormatException("A member has no name.");
        }

        if (m.ReadyModules.Count > MessageLimits.MaxModules)
        {
            throw new FormatException($"Member '{m.Name}' lists {m.ReadyModules.Count} ready modules, more than {MessageLimits.MaxModules}.");
        }

        return new MemberInfo(m.Name, m.Incarnation, m.Weight, m.Priority, m.Leaving, [.. m.ReadyModules.Order(StringComparer.Ordinal)])
        {
            Definitions = FromProto(m.Name, m.Definitions),
        };
    }

    public static Wire.ViewId? ToProto(ViewId? id) => id is { } v ? new Wire.ViewId { Epoch = v.Epoch, Coordinator = v.Coordinator, CoordinatorIncarnation = v.CoordinatorIncarnation } : null;

    public static ViewId? FromProto(Wire.ViewId? id) => id is null ? null : new ViewId(id.Epoch, id.Coordinator, id.CoordinatorIncarnation);

    public static Wire.View ToProto(ClusterView view)
    {
        var p = new Wire.View { Id = ToProto(view.Id), Tables = ToProto(view.Tables) };
        p.Members.AddRange(view.Members.Select(ToProto));
        return p;
    }

    public static ClusterView FromProto(Wire.View view) => FromProto(view, MessageLimits.Unconfigured);

    private static ClusterView FromProto(Wire.View view, MessageLimits limits)
    {
        CheckMembers(view.Members.Count, limits, "A view");
        return new(Required(view.Id, "view id"), view.Members.Select(FromProto), FromProto(view.Tables, limits) ?? throw new FormatException("A view has no tables."));
    }

    public static Wire.TableSet ToProto(ImmutableSortedDictionary<string, BucketTable> tables)
    {
        var set = new Wire.TableSet();
        foreach (var (module, table) in tables)
        {
            var t = new Wire.ModuleTable { Module = module, Epoch = table.Epoch };
            t.Members.AddRange(table.Members);
            t.Weights.AddRange(table.Weights);
            byte[] owners = new byte[table.BucketCount * 2];
            ReadOnlySpan<short> indices = table.OwnerIndices;
            for (int b = 0; b < indices.Length; b++)
            {
                BinaryPrimitives.WriteInt16LittleEndian(owners.AsSpan(b * 2), indices[b]);
            }

            t.Owners = ByteString.CopyFrom(owners);
            set.Tables.Add(t);
        }

        return set;
    }

    public static ImmutableSortedDictionary<string, BucketTable>? FromProto(Wire.TableSet? set) => FromProto(set, MessageLimits.Unconfigured);

    private static ImmutableSortedDictionary<string, BucketTable>? FromProto(Wire.TableSet? set, MessageLimits limits)
    {
        if (set is null)
        {
            return null;
        }

        if (set.Tables.Count > MessageLimits.MaxModules)
        {
            throw new FormatException($"{set.Tables.Count} tables, more than {MessageLimits.MaxModules} modules.");
        }

        var builder = ImmutableSortedDictionary.CreateBuilder<string, BucketTable>(StringComparer.Ordinal);
        foreach (var t in set.Tables)
        {
            if (t.Members.Count != t.Weights.Count || t.Owners.Length % 2 != 0)
            {
                throw new FormatException($"The table of module '{t.Module}' is inconsistent.");
            }

            CheckMembers(t.Members.Count, limits, $"The table of module '{t.Module}'");

            var members = t.Members.Zip(t.Weights, (name, weight) => new BucketMember(name, weight)).ToList();
            ReadOnlySpan<byte> bytes = t.Owners.Span;
            short[] owners = new short[bytes.Length / 2];
            for (int b = 0; b < owners.Length; b++)
            {
                owners[b] = BinaryPrimitives.ReadInt16LittleEndian(bytes[(b * 2)..]);
            }

            if (!builder.TryAdd(t.Module, BucketTable.FromOwners(t.Epoch, members, owners)))
            {
                throw new FormatException($"Module '{t.Module}' has two tables.");
            }
        }

        return builder.ToImmutable();
    }

    private static PrepareRequest FromProto(Wire.PrepareRequest m, MessageLimits limits)
    {
        CheckMembers(m.Members.Count, limits, "A proposal");
        CheckMembers(m.Removed.Count, limits, "A proposal's removed list");
        return new(Required(m.Id, "id"), [.. m.Members.Select(FromProto)], FromProto(m.Base), [.. m.Removed.Select(FromProto)], m.TablesFingerprint,
            FromProto(m.BaseTables, limits));
    }

    private static Wire.PrepareRequest ToProto(PrepareRequest m)
    {
        var p = new Wire.PrepareRequest { Id = ToProto(m.Id), Base = ToProto(m.Base), TablesFingerprint = m.TablesFingerprint };
        p.Members.AddRange(m.Members.Select(ToProto));
        p.Removed.AddRange(m.Removed.Select(ToProto));
        if (m.BaseTables is { } tables)
        {
            p.BaseTables = ToProto(tables);
        }

        return p;
    }

    private static Wire.PrepareReply ToProto(PrepareReply m)
    {
        var p = new Wire.PrepareReply { Id = ToProto(m.Id), Accepted = m.Accepted, NeedsBase = m.NeedsBase };
        if (m.Reason is { } reason)
        {
            p.Reason = reason;
        }

        p.StillHeard.AddRange(m.StillHeard.Select(ToProto));
        if (!m.StillHeardFor.IsDefault)
        {
            // The record's default (unknown) is a default ImmutableArray, which cannot be enumerated.
            p.StillHeardForMs.AddRange(m.StillHeardFor.Select(t => (long)t.TotalMilliseconds));
        }
        return p;
    }

    private static PrepareReply FromProto(Wire.PrepareReply m, MessageLimits limits)
    {
        CheckMembers(m.StillHeard.Count, limits, "A prepare reply's still-heard list");
        if (m.StillHeardForMs.Count > m.StillHeard.Count)
        {
            throw new FormatException("A prepare reply has more still-heard durations than still-heard members.");
        }

        return new(Required(m.Id, "id"), m.Accepted, m.HasReason ? m.Reason : null, m.NeedsBase, [.. m.StillHeard.Select(FromProto)],
            [.. m.StillHeardForMs.Select(ms => TimeSpan.FromMilliseconds(ms))]);
    }

    private static HeartbeatRequest FromProto(Wire.HeartbeatRequest m, MessageLimits limits) =>
        new(FromProto(m.Sender), m.ConfigHash, FromProto(m.Installed), FromProto(m.Promised), m.WitnessLost, FromProto(m.Drains, limits), m.Quiet,
            m.HasSentAtUs ? Microseconds(m.SentAtUs, "sent_at_us") : null, m.HasEchoUs ? Microseconds(m.EchoUs, "echo_us") : null,
            GoneNames(m.Gone, limits));

    /// <summary>A heartbeat's gone list: at most one name per member; null when empty.</summary>
    private static string[]? GoneNames(Google.Protobuf.Collections.RepeatedField<string> gone, MessageLimits limits) =>
        gone.Count == 0 ? null
        : gone.Count > limits.MaxMembers ? throw new FormatException($"A heartbeat names {gone.Count} gone peers; a cluster has at most {limits.MaxMembers} nodes.")
        : [.. gone];

    /// <summary>Sets a heartbeat's clock readings (absent when null), in microseconds.</summary>
    private static Wire.HeartbeatRequest WithClocks(this Wire.HeartbeatRequest m, TimeSpan? sentAt, TimeSpan? echo)
    {
        if (sentAt is { } s)
        {
            m.SentAtUs = s.Ticks / TimeSpan.TicksPerMicrosecond;
        }

        if (echo is { } e)
        {
            m.EchoUs = e.Ticks / TimeSpan.TicksPerMicrosecond;
        }

        return m;
    }

    /// <summary>A clock reading in microseconds; a negative one is malformed.</summary>
    private static TimeSpan Microseconds(long value, string field) =>
        value is >= 0 and <= long.MaxValue / TimeSpan.TicksPerMicrosecond
            ? TimeSpan.FromTicks(value * TimeSpan.TicksPerMicrosecond)
            : throw new FormatException($"{field} {value} is not a clock reading.");

    private static HeartbeatReply FromProto(Wire.HeartbeatReply m, MessageLimits limits) =>
        new(FromProto(m.Sender), m.ConfigHash, FromProto(m.Installed), FromProto(m.Promised), m.IncludesYou, m.WitnessLost, FromProto(m.Drains, limits));

    /// <summary>Refuses a member list longer than the cluster can have.</summary>
    private static void CheckMembers(int count, MessageLimits limits, string what)
    {
        if (count > limits.MaxMembers)
        {
            throw new FormatException($"{what} lists {count} members, more than the {limits.MaxMembers} the cluster has.");
        }
    }

    /// <summary>A drain report on the wire: draining buckets as inclusive ranges.</summary>
    public static Wire.DrainReport? ToProto(DrainReport? report)
    {
        if (report is null)
        {
            return null;
        }

        var p = new Wire.DrainReport { Reflects = ToProto(report.Reflects) };
        foreach (var m in report.Modules)
        {
            var d = new Wire.ModuleDrain
            {
                Module = m.Module,
                UdpFlows = m.Flows.IsEmpty ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(FlowKeyCodec.Encode(m.Flows)),
                Incoming = m.Incoming,
                OldestDrainAgeMs = m.OldestDrainAge is { } age ? (long)age.TotalMilliseconds : -1,
            };
            foreach (var (start, end) in BucketRuns.Of(m.Draining))
            {
                d.DrainingRanges.Add((uint)start);
                d.DrainingRanges.Add((uint)end);
            }

            p.Modules.Add(d);
        }

        return p;
    }

    /// <summary>Parses a drain report within <see cref="MessageLimits.Unconfigured"/>.</summary>
    public static DrainReport? FromProto(Wire.DrainReport? report) => FromProto(report, MessageLimits.Unconfigured);

    /// <summary>
    /// Parses a drain report. Everything is checked before any bucket list is allocated: at most
    /// <see cref="MessageLimits.MaxModules"/> parts, each module once; per module, ranges as (start, end) pairs, inclusive,
    /// ascending and disjoint, within the module's bucket count (a module this node does not run: within
    /// <see cref="BucketTable.MaxBucketCount"/>, and its part is dropped); UDP flows as whole entries. So the lists
    /// allocated hold at most the node's own bucket count per module.
    /// </summary>
    public static DrainReport? FromProto(Wire.DrainReport? report, MessageLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (report is null)
        {
            return null;
        }

        var parts = report.Modules;
        if (parts.Count > MessageLimits.MaxModules)
        {
            throw new FormatException($"The drain report names {parts.Count} modules, more than {MessageLimits.MaxModules}.");
        }

        // Pass 1, no allocation beyond the set of names: how many buckets each kept part expands to.
        Span<int> sizes = stackalloc int[parts.Count];
        var names = new HashSet<string>(parts.Count, StringComparer.Ordinal);
        for (int p = 0; p < parts.Count; p++)
        {
            var m = parts[p];
            if (!names.Add(m.Module))
            {
                throw new FormatException($"The drain report names module '{m.Module}' twice.");
            }

            int size = CountDraining(m.Module, m.DrainingRanges, BucketTable.MaxBucketCount);
            bool keep = true;
            if (limits.BucketCounts is { } counts)
            {
                // A module this node does not run is not kept; nor one drained beyond this node's bucket count: the
                // sender's definition of it differs (ModuleAgreement), so its buckets are not this node's buckets.
                keep = counts.TryGetValue(m.Module, out int bucketCount) &&
                    (m.DrainingRanges.Count == 0 || m.DrainingRanges[^1] < (uint)bucketCount);
            }

            CheckFlows(m.Module, m.UdpFlows);
            sizes[p] = keep ? size : -1;
        }

        // Pass 2: exactly sized lists of the parts kept.
        var modules = ImmutableArray.CreateBuilder<ModuleDrainReport>(parts.Count);
        for (int p = 0; p < parts.Count; p++)
        {
            if (sizes[p] < 0)
            {
                continue; // a module this node does not run: the manager would never read it
            }

            var m = parts[p];
            var buckets = new int[sizes[p]];
            int n = 0;
            for (int i = 0; i < m.DrainingRanges.Count; i += 2)
            {
                for (uint b = m.DrainingRanges[i]; b <= m.DrainingRanges[i + 1]; b++)
                {
                    buckets[n++] = (int)b;
                }
            }

            TimeSpan? age = m.OldestDrainAgeMs >= 0 ? TimeSpan.FromMilliseconds(m.OldestDrainAgeMs) : null;
            modules.Add(new ModuleDrainReport(m.Module, ImmutableCollectionsMarshal.AsImmutableArray(buckets), FlowKeyCodec.Decode(m.UdpFlows.Span), m.Incoming, age));
        }

        return new DrainReport(FromProto(report.Reflects), modules.DrainToImmutable());
    }

    /// <summary>How many buckets the (start, end) pairs name; refuses odd lengths, reversed, overlapping or out-of-range pairs.</summary>
    private static int CountDraining(string module, Google.Protobuf.Collections.RepeatedField<uint> ranges, int bucketCount)
    {
        if (ranges.Count % 2 != 0)
        {
            throw new FormatException($"The draining ranges of module '{module}' have an odd length.");
        }

        long previous = -1;
        long total = 0;
        for (int i = 0; i < ranges.Count; i += 2)
        {
            uint start = ranges[i];
            uint end = ranges[i + 1];
            if (start <= previous || end < start || end >= (uint)bucketCount)
            {
                throw new FormatException(
                    $"The draining ranges of module '{module}' are not ascending, disjoint ranges of its {bucketCount} buckets (pair {i / 2}: {start}-{end}).");
            }

            total += end - start + 1;
            previous = end;
        }

        // Disjoint ranges below bucketCount: total <= bucketCount (and so are the pairs).
        return (int)total;
    }

    /// <summary>Refuses a UDP flow list that is not whole entries (see <see cref="FlowKeyCodec"/>), naming the module.</summary>
    private static void CheckFlows(string module, ByteString flows)
    {
        try
        {
            _ = FlowKeyCodec.Count(flows.Span);
        }
        catch (FormatException e)
        {
            throw new FormatException($"The UDP flows of module '{module}': {e.Message}", e);
        }
    }

    private static CommitReply FromProto(Wire.CommitReply m) => new(Required(m.Id, "id"), m.Installed);

    private static GetViewRequest ParseEmpty(ByteString payload)
    {
        _ = Wire.GetViewRequest.Parser.ParseFrom(payload);
        return new GetViewRequest();
    }

    private static ViewId Required(Wire.ViewId? id, string what) =>
        FromProto(id) ?? throw new FormatException($"The {what} is missing.");

    private static T Required<T>(T? value, string what)
        where T : class =>
        value ?? throw new FormatException($"The {what} is missing.");
}

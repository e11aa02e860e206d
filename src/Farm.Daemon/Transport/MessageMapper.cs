using System.Buffers.Binary;
using System.Collections.Immutable;
using Farm.Cluster.Membership;
using Farm.Core.Buckets;
using Farm.Protocol;
using Google.Protobuf;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Transport;

/// <summary>
/// Maps the membership records to and from their protobuf messages at the transport edge. Tables travel as member
/// names, weights and packed int16 owner indices. Malformed input throws <see cref="FormatException"/>.
/// </summary>
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
            Drains = ToProto(m.Drains),
        },
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

    /// <summary>Parses the request payload of <paramref name="method"/>.</summary>
    public static MembershipMessage ParseRequest(string method, ByteString payload)
    {
        try
        {
            return method switch
            {
                _ when method == MethodPaths.Heartbeat => FromProto(Wire.HeartbeatRequest.Parser.ParseFrom(payload)),
                _ when method == MethodPaths.Prepare => FromProto(Wire.PrepareRequest.Parser.ParseFrom(payload)),
                _ when method == MethodPaths.Commit => new CommitRequest(Required(Wire.CommitRequest.Parser.ParseFrom(payload).Id, "id")),
                _ when method == MethodPaths.GetView => ParseEmpty(payload),
                _ => throw new FormatException($"Unknown membership method {method}."),
            };
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or ArgumentException)
        {
            throw new FormatException($"Malformed {method} request: {ex.Message}", ex);
        }
    }

    /// <summary>Parses the reply payload of <paramref name="method"/>.</summary>
    public static MembershipMessage ParseReply(string method, ByteString payload)
    {
        try
        {
            return method switch
            {
                _ when method == MethodPaths.Heartbeat => FromProto(Wire.HeartbeatReply.Parser.ParseFrom(payload)),
                _ when method == MethodPaths.Prepare => FromProto(Wire.PrepareReply.Parser.ParseFrom(payload)),
                _ when method == MethodPaths.Commit => FromProto(Wire.CommitReply.Parser.ParseFrom(payload)),
                _ when method == MethodPaths.GetView => new GetViewReply(
                    Wire.GetViewReply.Parser.ParseFrom(payload).View is { } v ? FromProto(v) : null),
                _ => throw new FormatException($"Unknown membership method {method}."),
            };
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or ArgumentException)
        {
            throw new FormatException($"Malformed {method} reply: {ex.Message}", ex);
        }
    }

    public static Wire.Member ToProto(MemberInfo m)
    {
        var p = new Wire.Member { Name = m.Name, Incarnation = m.Incarnation, Weight = m.Weight, Priority = m.Priority, Leaving = m.Leaving };
        p.ReadyModules.AddRange(m.ReadyModules);
        return p;
    }

    public static MemberInfo FromProto(Wire.Member? m)
    {
        m = Required(m, "member");
        if (m.Name.Length == 0)
        {
            throw new FormatException("A member has no name.");
        }

        return new MemberInfo(m.Name, m.Incarnation, m.Weight, m.Priority, m.Leaving, [.. m.ReadyModules.Order(StringComparer.Ordinal)]);
    }

    public static Wire.ViewId? ToProto(ViewId? id) => id is { } v ? new Wire.ViewId { Epoch = v.Epoch, Coordinator = v.Coordinator, CoordinatorIncarnation = v.CoordinatorIncarnation } : null;

    public static ViewId? FromProto(Wire.ViewId? id) => id is null ? null : new ViewId(id.Epoch, id.Coordinator, id.CoordinatorIncarnation);

    public static Wire.View ToProto(ClusterView view)
    {
        var p = new Wire.View { Id = ToProto(view.Id), Tables = ToProto(view.Tables) };
        p.Members.AddRange(view.Members.Select(ToProto));
        return p;
    }

    public static ClusterView FromProto(Wire.View view) =>
        new(Required(view.Id, "view id"), view.Members.Select(FromProto), FromProto(view.Tables) ?? throw new FormatException("A view has no tables."));

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

    public static ImmutableSortedDictionary<string, BucketTable>? FromProto(Wire.TableSet? set)
    {
        if (set is null)
        {
            return null;
        }

        var builder = ImmutableSortedDictionary.CreateBuilder<string, BucketTable>(StringComparer.Ordinal);
        foreach (var t in set.Tables)
        {
            if (t.Members.Count != t.Weights.Count || t.Owners.Length % 2 != 0)
            {
                throw new FormatException($"The table of module '{t.Module}' is inconsistent.");
            }

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

    private static PrepareRequest FromProto(Wire.PrepareRequest m) =>
        new(Required(m.Id, "id"), [.. m.Members.Select(FromProto)], FromProto(m.Base), [.. m.Removed.Select(FromProto)], m.TablesFingerprint, FromProto(m.BaseTables));

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

    private static PrepareReply FromProto(Wire.PrepareReply m) =>
        new(Required(m.Id, "id"), m.Accepted, m.HasReason ? m.Reason : null, m.NeedsBase, [.. m.StillHeard.Select(FromProto)],
            [.. m.StillHeardForMs.Select(ms => TimeSpan.FromMilliseconds(ms))]);

    private static HeartbeatRequest FromProto(Wire.HeartbeatRequest m) =>
        new(FromProto(m.Sender), m.ConfigHash, FromProto(m.Installed), FromProto(m.Promised), m.WitnessLost, FromProto(m.Drains));

    private static HeartbeatReply FromProto(Wire.HeartbeatReply m) =>
        new(FromProto(m.Sender), m.ConfigHash, FromProto(m.Installed), FromProto(m.Promised), m.IncludesYou, m.WitnessLost, FromProto(m.Drains));

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
                UdpFlows = ByteString.CopyFrom(m.Flows.Span),
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

    /// <summary>Parses a drain report; ranges must be ascending, inclusive and within the bucket limit.</summary>
    public static DrainReport? FromProto(Wire.DrainReport? report)
    {
        if (report is null)
        {
            return null;
        }

        var modules = ImmutableArray.CreateBuilder<ModuleDrainReport>(report.Modules.Count);
        foreach (var m in report.Modules)
        {
            var ranges = m.DrainingRanges;
            if (ranges.Count % 2 != 0)
            {
                throw new FormatException($"The draining ranges of module '{m.Module}' have an odd length.");
            }

            var buckets = ImmutableArray.CreateBuilder<int>();
            long previous = -1;
            for (int i = 0; i < ranges.Count; i += 2)
            {
                uint start = ranges[i];
                uint end = ranges[i + 1];
                if (start <= previous || end < start || end >= BucketTable.MaxBucketCount)
                {
                    throw new FormatException($"The draining ranges of module '{m.Module}' are not ascending ranges of buckets.");
                }

                for (uint b = start; b <= end; b++)
                {
                    buckets.Add((int)b);
                }

                previous = end;
            }

            TimeSpan? age = m.OldestDrainAgeMs >= 0 ? TimeSpan.FromMilliseconds(m.OldestDrainAgeMs) : null;
            modules.Add(new ModuleDrainReport(m.Module, buckets.ToImmutable(), m.UdpFlows.ToByteArray(), m.Incoming, age));
        }

        return new DrainReport(FromProto(report.Reflects), modules.ToImmutable());
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

using System.Collections.Immutable;

namespace Farm.DataPlane.Tests.TestSupport;

/// <summary>
/// An in-memory <see cref="IConntrackTable"/> for tests of code that watches drains or deletes entries:
/// <see cref="Dump"/> and <see cref="Lookup"/> answer from the settable <see cref="Flows"/>, <see cref="Delete"/> removes
/// from it, and all count their calls. Thread-safe.
/// </summary>
/// <remarks>
/// <see cref="Lookup"/> and <see cref="Delete"/> match a flow by its original tuple (protocol, source, source port, destination, destination
/// port; IPv4-mapped IPv6 addresses count as IPv4) and checks its arguments as <see cref="NetlinkConntrackTable"/> does.
/// </remarks>
internal sealed class FakeConntrackTable : IConntrackTable
{
    private readonly Lock gate = new();
    private ImmutableArray<TrackedFlow> flows;
    private Exception? failure;
    private int dumpCount;
    private int lookupCount;
    private int lookedUpFlowCount;
    private int deleteCount;

    /// <summary>Creates a table holding <paramref name="flows"/> (none when null).</summary>
    public FakeConntrackTable(IEnumerable<TrackedFlow>? flows = null) => this.flows = flows is null ? [] : [.. flows];

    /// <summary>The entries the table holds; setting it replaces them all for the calls that follow.</summary>
    public IReadOnlyList<TrackedFlow> Flows
    {
        get
        {
            lock (gate)
            {
                return flows;
            }
        }

        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (gate)
            {
                flows = [.. value];
            }
        }
    }

    /// <summary>When set, every <see cref="Dump"/> and <see cref="Lookup"/> throws it (a kernel that refuses), until set back to null.</summary>
    public Exception? Failure
    {
        get => Volatile.Read(ref failure);
        set => Volatile.Write(ref failure, value);
    }

    /// <summary>How many times <see cref="Dump"/> was called (failed calls included).</summary>
    public int DumpCount => Volatile.Read(ref dumpCount);

    /// <summary>How many times <see cref="Lookup"/> was called (failed calls included).</summary>
    public int LookupCount => Volatile.Read(ref lookupCount);

    /// <summary>How many flows all <see cref="Lookup"/> calls asked for together.</summary>
    public int LookedUpFlowCount => Volatile.Read(ref lookedUpFlowCount);

    /// <summary>How many times <see cref="Delete"/> was called (failed calls included).</summary>
    public int DeleteCount => Volatile.Read(ref deleteCount);

    /// <inheritdoc />
    public IReadOnlyList<TrackedFlow?> Delete(IReadOnlyList<TrackedFlow> flows)
    {
        ArgumentNullException.ThrowIfNull(flows);
        Interlocked.Increment(ref deleteCount);
        for (int i = 0; i < flows.Count; i++)
        {
            CtnetlinkRequestBuilder.ThrowIfNotLookupable(flows[i], $"Flow {i}");
        }

        if (Failure is { } refusal)
        {
            throw refusal;
        }

        var results = new TrackedFlow?[flows.Count];
        lock (gate)
        {
            var held = this.flows.ToList();
            for (int i = 0; i < flows.Count; i++)
            {
                int at = held.FindIndex(f => Tuple.Of(f) == Tuple.Of(flows[i]));
                if (at >= 0)
                {
                    results[i] = flows[i];
                    held.RemoveAt(at);
                }
            }

            this.flows = [.. held];
        }

        return results;
    }

    /// <inheritdoc />
    public IReadOnlyList<TrackedFlow> Dump()
    {
        Interlocked.Increment(ref dumpCount);
        if (Failure is { } refusal)
        {
            throw refusal;
        }

        lock (gate)
        {
            return flows;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<TrackedFlow?> Lookup(IReadOnlyList<TrackedFlow> flows)
    {
        ArgumentNullException.ThrowIfNull(flows);
        Interlocked.Increment(ref lookupCount);
        Interlocked.Add(ref lookedUpFlowCount, flows.Count);
        for (int i = 0; i < flows.Count; i++)
        {
            CtnetlinkRequestBuilder.ThrowIfNotLookupable(flows[i], $"Flow {i}");
        }

        if (Failure is { } refusal)
        {
            throw refusal;
        }

        ImmutableArray<TrackedFlow> held;
        lock (gate)
        {
            held = this.flows;
        }

        var byTuple = new Dictionary<Tuple, TrackedFlow>();
        foreach (var entry in held)
        {
            byTuple.TryAdd(Tuple.Of(entry), entry);
        }

        var results = new TrackedFlow?[flows.Count];
        for (int i = 0; i < flows.Count; i++)
        {
            results[i] = byTuple.TryGetValue(Tuple.Of(flows[i]), out var entry) ? entry : null;
        }

        return results;
    }

    private readonly record struct Tuple(Farm.Core.Config.TransportProtocol Protocol, IPAddress Source, int SourcePort, IPAddress Destination, int DestinationPort)
    {
        public static Tuple Of(TrackedFlow flow) =>
            new(flow.Protocol, Normalize(flow.Source), flow.SourcePort, Normalize(flow.Destination), flow.DestinationPort);

        private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }
}

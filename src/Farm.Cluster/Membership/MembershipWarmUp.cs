using System.Collections.Immutable;
using Farm.Core.Buckets;
using Farm.Core.Config;

namespace Farm.Cluster.Membership;

/// <summary>
/// Runs the membership code of a farm's life once, in memory, before a node takes part in a real one: three managers on
/// virtual time form a view, report their drains, lose a member and take it back, with this node's options and modules.
/// Pure: no I/O, no real time, nothing shared with the real manager.
/// </summary>
/// <remarks>
/// Why: farmd is published ReadyToRun without tiered compilation, and ReadyToRun leaves out the generic code over our own
/// types (immutable arrays and dictionaries of our records, LINQ over them). A restarted farmd compiled it inside the
/// first Prepares and Commits it served: 44-122 ms of JIT in requests that took 62-206 ms, on the path from the old owner's
/// promise to the rejoining node's commit, while the buckets moving to it accepted nobody (failover benchmark, kill -9,
/// 2026-12-05, event 311). Run here, that compiling happens before the node is in any view.
/// </remarks>
public static class MembershipWarmUp
{
    private const int Nodes = 3;
    private const int StepsPerPhase = 400;

    /// <summary>How far the warm-up farm got.</summary>
    /// <param name="Formed">The three nodes formed one view.</param>
    /// <param name="Removed">The two others installed a view without the node that stopped.</param>
    /// <param name="Rejoined">The stopped node, restarted, was in a view of three again, owning buckets of every balance module.</param>
    /// <param name="Messages">Requests delivered (each with its reply or failure).</param>
    public sealed record Result(bool Formed, bool Removed, bool Rejoined, int Messages);

    /// <summary>
    /// Runs the warm-up farm with <paramref name="options"/>' timings and LANs (and policy: <c>witness</c> runs as
    /// <c>majority</c>, the farm has no witness) and this node's <paramref name="modules"/>. <paramref name="exchanged"/>
    /// sees every request with its reply, <paramref name="published"/> every ownership a node published: the host passes
    /// them through its own code (wire mapping, data plane), so that code is compiled too.
    /// </summary>
    public static Result Run(
        MembershipOptions options, IReadOnlyList<ModuleSpec> modules,
        Action<MembershipMessage, MembershipMessage>? exchanged = null, Action<OwnershipSnapshot>? published = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(modules);
        var names = Enumerable.Range(1, Nodes).Select(i => $"warm-up-{i}").ToImmutableArray();
        var farm = new Farm(
            options with
            {
                ConfiguredNodes = names,
                SplitBrainPolicy = options.SplitBrainPolicy == SplitBrainPolicy.Witness ? SplitBrainPolicy.Majority : options.SplitBrainPolicy,
            },
            modules, exchanged, published);
        foreach (string name in names)
        {
            farm.Start(name);
        }

        bool formed = farm.RunUntil(() => farm.AllInOneView(names));
        farm.Stop(names[^1]);
        var survivors = names.RemoveAt(names.Length - 1);
        bool removed = formed && farm.RunUntil(() => farm.AllInOneView(survivors));
        farm.Start(names[^1]);
        bool rejoined = removed && farm.RunUntil(() => farm.AllInOneView(names) && farm.HoldsBuckets(names[^1]));
        return new Result(formed, removed, rejoined, farm.Messages);
    }

    /// <summary>The in-memory farm: synchronous delivery, every LAN up, time moving by a quarter interval per step.</summary>
    private sealed class Farm(
        MembershipOptions options, IReadOnlyList<ModuleSpec> modules,
        Action<MembershipMessage, MembershipMessage>? exchanged, Action<OwnershipSnapshot>? published)
    {
        private readonly Dictionary<string, MembershipDriver> running = new(StringComparer.Ordinal);
        private readonly Queue<(string From, OutboundRequest Request)> outbox = new();
        private readonly TimeSpan step = options.HeartbeatInterval / 4;
        private readonly ImmutableArray<string> ready = [.. modules.Select(m => m.Name).Order(StringComparer.Ordinal)];
        private readonly ImmutableArray<ModuleDefinition> definitions =
            [.. modules.Select(m => m.ToDefinition()).OfType<ModuleDefinition>().OrderBy(d => d.Module, StringComparer.Ordinal)];
        private TimeSpan now = TimeSpan.FromSeconds(1);
        private long incarnation;

        public int Messages { get; private set; }

        public void Start(string name)
        {
            var self = new MemberInfo(name, ++incarnation, 100, 0, false, ready) { Definitions = definitions };
            running[name] = new MembershipDriver(options, self, "warm-up", modules, now) { PublishesOwnership = true };
        }

        public void Stop(string name) => running.Remove(name);

        public bool AllInOneView(ImmutableArray<string> names)
        {
            ClusterView? first = null;
            foreach (string name in names)
            {
                if (!running.TryGetValue(name, out var driver) || driver.Manager.Installed is not { } view || view.Members.Length != names.Length
                    || (first is not null && !first.Id.Equals(view.Id)))
                {
                    return false;
                }

                first = view;
            }

            return true;
        }

        /// <summary>The node owns buckets of every balance module (a single module's buckets stay with its primary).</summary>
        public bool HoldsBuckets(string name) =>
            running.TryGetValue(name, out var driver)
            && modules.Where(m => m.Mode == BucketMode.Balance).All(m =>
                driver.Manager.Ownership.Modules.TryGetValue(m.Name, out var states) && !states.BucketsIn(BucketState.Owned).IsEmpty);

        public bool RunUntil(Func<bool> done)
        {
            for (int i = 0; i < StepsPerPhase; i++)
            {
                now += step;
                foreach (string name in running.Keys.ToArray())
                {
                    // A tick every interval, polls between: as farmd's heartbeat thread.
                    var driver = running[name];
                    Handle(name, i % 4 == 0 ? driver.Tick(now) : driver.Poll(now));
                }

                Deliver();
                if (done())
                {
                    return true;
                }
            }

            return false;
        }

        private void Handle(string name, MembershipEffects effects)
        {
            foreach (var request in effects.Outbox)
            {
                outbox.Enqueue((name, request));
            }

            if (effects.Changed is { } snapshot && running.TryGetValue(name, out var driver))
            {
                published?.Invoke(snapshot);
                if (options.TracksDrains)
                {
                    // Every drain ends at once: no connection is left in the warm-up's kernels.
                    var scans = snapshot.Modules.Keys.ToDictionary(m => m, _ => new ModuleDrainScan(new HashSet<int>(), []), StringComparer.Ordinal);
                    Handle(name, driver.ReportDrains(snapshot, scans, now));
                }
            }
        }

        private void Deliver()
        {
            while (outbox.TryDequeue(out var item))
            {
                if (!running.TryGetValue(item.From, out var sender))
                {
                    continue; // stopped since it asked
                }

                Messages++;
                var request = item.Request;
                if (!running.TryGetValue(request.To, out var receiver))
                {
                    Handle(item.From, sender.HandleFailure(request.CorrelationId, now));
                    continue;
                }

                var (reply, effects) = receiver.HandleRequest(item.From, request.Lan, request.Message, now);
                exchanged?.Invoke(request.Message, reply);
                Handle(request.To, effects);
                Handle(item.From, sender.HandleReply(request.CorrelationId, reply, now));
            }
        }
    }
}

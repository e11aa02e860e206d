using System.Collections.Immutable;
using Farm.Core.Buckets;

namespace Farm.Cluster.Membership;

/// <summary>
/// The hand-overs of this node and the bucket states that follow from them: buckets released at a promise,
/// draining after an install (until idle or the drain timeout), claimed after an install (until every other member
/// reported whether it drains them), incoming while a member's report says it drains them. Builds the ownership
/// snapshots (the facade decides when) and keeps the drain report the heartbeats carry.
/// See docs/architecture.md ("Connection-preserving hand-over").
/// </summary>
internal sealed class HandoverLedger
{
    private readonly MembershipOptions options;
    private readonly IReadOnlyList<ModuleSpec> modules;
    private readonly MemberInfo run;
    private readonly Dictionary<string, ModuleSpec> specs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<int>> releasedSinceInstall = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<int, TimeSpan>> handedOver = new(StringComparer.Ordinal);
    private readonly HashSet<ViewId> lineage = [];
    private readonly Dictionary<string, Dictionary<int, Claim>> claims = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<int, TimeSpan>> drainingUntil = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<int, DrainStart>> drainStarts = new(StringComparer.Ordinal);
    private long snapshotVersion;
    private readonly RejoinCounter rejoins = new();
    private DrainReport published = DrainReport.None;

    /// <summary>The hand-overs of <paramref name="run"/> (only its name and incarnation count: they never change).</summary>
    public HandoverLedger(MembershipOptions options, IReadOnlyList<ModuleSpec> modules, MemberInfo run)
    {
        this.options = options;
        this.modules = modules;
        this.run = run;
        foreach (var module in modules)
        {
            Reset(module.Name, module);
        }
    }

    /// <summary>
    /// Module <paramref name="name"/> is loaded as <paramref name="spec"/> (new, or a new definition once this node
    /// stopped serving it) or unloaded (null): whatever this node released, claimed or drained of it is forgotten.
    /// </summary>
    public void Reset(string name, ModuleSpec? spec)
    {
        foreach (var map in (System.Collections.IDictionary[])[releasedSinceInstall, handedOver, claims, drainingUntil, drainStarts, specs])
        {
            map.Remove(name);
        }

        if (spec is not null)
        {
            releasedSinceInstall[name] = [];
            handedOver[name] = [];
            claims[name] = [];
            drainingUntil[name] = [];
            drainStarts[name] = [];
            specs[name] = spec;
        }
    }

    /// <summary>
    /// The bucket states for <paramref name="installed"/> (null before the first view), following the view
    /// <paramref name="reflects"/>; <paramref name="memberReports"/>: the drain reports of the other members' runs, in name order.
    /// Every call takes a new version, used or not.
    /// </summary>
    public OwnershipSnapshot Build(ClusterView? installed, ViewId? reflects, IReadOnlyList<DrainReport> memberReports, TimeSpan now)
    {
        var result = ImmutableSortedDictionary.CreateBuilder<string, ModuleOwnership>(StringComparer.Ordinal);
        bool member = installed is not null && installed.Contains(run);
        foreach (var module in modules)
        {
            var states = new BucketState[module.BucketCount];
            var released = releasedSinceInstall[module.Name];
            bool incoming = false;
            if (member && installed!.Tables.TryGetValue(module.Name, out var table) && table.BucketCount == module.BucketCount)
            {
                var claimed = claims[module.Name];
                var drainedElsewhere = DrainedByPeers(module.Name, module.BucketCount, memberReports, DefinitionsDiffer(installed!, module.Name));
                for (int b = 0; b < states.Length; b++)
                {
                    if (table.OwnerOf(b) != run.Name)
                    {
                        continue;
                    }

                    states[b] = released.Contains(b) ? BucketState.Draining
                        : claimed.ContainsKey(b) ? BucketState.Claimed
                        : drainedElsewhere?.Contains(b) == true ? BucketState.Incoming
                        : BucketState.Owned;
                    incoming |= states[b] == BucketState.Incoming;
                }
            }

            foreach (var (bucket, until) in drainingUntil[module.Name])
            {
                if (until > now && states[bucket] == BucketState.None)
                {
                    states[bucket] = BucketState.Draining;
                }
            }

            result[module.Name] = new ModuleOwnership(module.Name, states, incoming ? ForeignFlows(module.Name, memberReports) : []);
        }

        return new OwnershipSnapshot(++snapshotVersion, installed?.Id, reflects, result.ToImmutable(), rejoins.Count);
    }

    /// <summary>
    /// <paramref name="snapshot"/> became the ownership: notes when each drain began (for its age, and so a drain report
    /// ends only drains no newer than what it saw). When nobody looks at connections, returns the drain report that
    /// follows the states (every drain then runs to its timeout), else null.
    /// </summary>
    public DrainReport? NoteSnapshot(OwnershipSnapshot snapshot, TimeSpan now)
    {
        foreach (var (name, states) in snapshot.Modules)
        {
            var starts = drainStarts[name];
            foreach (int bucket in starts.Keys.Where(b => states[b] != BucketState.Draining).ToList())
            {
                starts.Remove(bucket);
            }

            for (int b = 0; b < states.States.Length; b++)
            {
                if (states[b] == BucketState.Draining)
                {
                    starts.TryAdd(b, new DrainStart(snapshot.Version, now));
                }
            }
        }

        return options.TracksDrains
            ? null
            : new DrainReport(snapshot.Reflects, [.. snapshot.Modules.Values
                .Where(m => m.Draining > 0 || m.Incoming > 0)
                .Select(m => new ModuleDrainReport(m.Module, m.BucketsIn(BucketState.Draining), [], m.Incoming, null))]);
    }

    /// <summary>
    /// Ends the drains of <paramref name="applied"/> that <paramref name="scans"/> found idle (see
    /// <see cref="MembershipManager.ReportDrains"/>) and returns the drain report that follows. True when a drain ended.
    /// </summary>
    public bool EndIdleDrains(OwnershipSnapshot applied, IReadOnlyDictionary<string, ModuleDrainScan> scans, out DrainReport report)
    {
        bool ended = false;
        var parts = ImmutableArray.CreateBuilder<ModuleDrainReport>();
        foreach (var (name, states) in applied.Modules)
        {
            if (!drainingUntil.TryGetValue(name, out var draining))
            {
                continue;
            }

            var scan = scans.GetValueOrDefault(name);
            var starts = drainStarts[name];
            var still = ImmutableArray.CreateBuilder<int>();
            for (int b = 0; b < states.States.Length; b++)
            {
                if (states[b] != BucketState.Draining)
                {
                    continue;
                }

                // Only a drain that began no later than the applied snapshot: its bucket took no new flow since.
                bool idle = scan is not null && !scan.Busy.Contains(b);
                if (idle && draining.ContainsKey(b) && starts.TryGetValue(b, out var start) && start.Version <= applied.Version)
                {
                    draining.Remove(b);
                    ended = true;
                    continue;
                }

                still.Add(b);
            }

            // No scan (conntrack unreadable): drains stay busy, the flows last reported stay listed (new owners must not answer them).
            var flows = scan?.Flows ?? published.Find(name)?.Flows ?? [];
            if (still.Count > 0 || !flows.IsEmpty || states.Incoming > 0)
            {
                parts.Add(new ModuleDrainReport(name, still.ToImmutable(), flows, states.Incoming, null));
            }
        }

        report = new DrainReport(applied.Reflects, parts.ToImmutable());
        return ended;
    }

    /// <summary>Makes <paramref name="report"/> what the heartbeats say; true when it changed (tell every peer now).</summary>
    public bool Publish(DrainReport report)
    {
        if (report.Equals(published))
        {
            return false;
        }

        published = report;
        return true;
    }

    /// <summary>The published report with the current drain ages (status on the peers shows them).</summary>
    public DrainReport Current(TimeSpan now) =>
        published.Modules.IsEmpty
            ? published
            : published with { Modules = [.. published.Modules.Select(m => m with { OldestDrainAge = OldestDrainAge(m.Module, now) })] };

    /// <summary>This node's hand-over progress per module of <paramref name="ownership"/> (taken over, draining, oldest drain's age).</summary>
    public ImmutableArray<ModuleDrainStatus> Statuses(OwnershipSnapshot ownership, TimeSpan now) =>
        [.. ownership.Modules.Values.Select(m => new ModuleDrainStatus(m.Module, m.Incoming, m.Draining, OldestDrainAge(m.Module, now)))];

    /// <summary>Age of the module's oldest drain in progress, or null.</summary>
    public TimeSpan? OldestDrainAge(string module, TimeSpan now) =>
        drainStarts.TryGetValue(module, out var starts) && starts.Count > 0 ? now - starts.Values.Min(s => s.At) : null;

    /// <summary>Ends drains past their timeout and claims past their limit; true when one ended.</summary>
    public bool ExpireTimed(TimeSpan now)
    {
        bool changed = false;
        foreach (var map in drainingUntil.Values)
        {
            foreach (var bucket in map.Where(kv => kv.Value <= now).Select(kv => kv.Key).ToList())
            {
                map.Remove(bucket); // drain timeout: whatever the bucket still tracks is dropped here
                changed = true;
            }
        }

        foreach (var map in claims.Values)
        {
            foreach (var bucket in map.Where(kv => kv.Value.Until <= now).Select(kv => kv.Key).ToList())
            {
                map.Remove(bucket); // no report came (or the drain timed out): the bucket is fully ours
                changed = true;
            }
        }

        return changed;
    }

    /// <summary>
    /// Settles claimed buckets from the drain reports of the other members of <paramref name="installed"/> (their runs
    /// that did not restart): once each sent a report reflecting the view the claim was made in or a later one, the
    /// claim ends: from then on the bucket is incoming while a peer's latest report says it drains it, else owned. A
    /// member's report lists what it drains as of that view, so a later report never reveals an older drain. Returns
    /// true when a claim ended.
    /// </summary>
    public bool ResolveClaims(ClusterView? installed, PeerMonitor peers)
    {
        if (installed is null || !installed.Contains(run) || !claims.Values.Any(c => c.Count > 0))
        {
            return false;
        }

        var reports = peers.ReportsOfMembers(installed, run.Name);
        bool changed = false;
        foreach (var module in modules)
        {
            var claimed = claims[module.Name];
            if (claimed.Count == 0)
            {
                continue;
            }

            var parts = reports.Select(r => r?.Reflects).ToList();
            foreach (var (bucket, claim) in claimed.ToList())
            {
                bool all = true;
                foreach (var reflects in parts)
                {
                    if (ViewId.Compare(reflects, claim.Since) < 0)
                    {
                        all = false;
                        break;
                    }
                }

                if (all)
                {
                    claimed.Remove(bucket); // incoming while a reachable peer drains it (Build), else owned
                    changed = true;
                }
            }
        }

        return changed;
    }

    /// <summary>
    /// This node promised <paramref name="promised"/> (derived from view <paramref name="baseId"/>, whose tables are
    /// <paramref name="baseTables"/>) while <paramref name="installed"/> was installed. When it missed views, others may
    /// have served (and now drain) buckets its installed table still calls its own: it claims them all. Every bucket it
    /// owns that the promised view gives to another node is released (drains, takes no new flow); releases are sticky
    /// until the next install. A release is also a hand-over (kept draining by an install after missed views, see
    /// <see cref="OnInstalled"/>) when the base, a view of this node's lineage, still gives the bucket to this node.
    /// </summary>
    public void OnPromised(
        ClusterView? installed, ClusterView promised, ViewId? baseId, IReadOnlyDictionary<string, BucketTable>? baseTables, TimeSpan now)
    {
        if (installed is null || !installed.Contains(run))
        {
            return;
        }

        if (baseId is not { } parent || !lineage.Contains(parent))
        {
            // The coordinator builds on a history this node took no part in: whoever owns its old buckets there never
            // heard of its hand-overs (it may own them whole), so none of them survives a later install.
            foreach (var map in handedOver.Values)
            {
                map.Clear();
            }
        }
        else
        {
            lineage.Add(promised.Id);
        }

        rejoins.OnPromised(run.Name, promised.Id, baseTables, claims: baseId is not null && baseId != installed.Id);
        if (baseId is not null && baseId != installed.Id)
        {
            ClaimAll(installed, promised.Id, now);
        }

        foreach (var module in modules)
        {
            if (!installed.Tables.TryGetValue(module.Name, out var table) || table.BucketCount != module.BucketCount)
            {
                continue;
            }

            // A table of another shape (the agreed definition changed its bucket count): every bucket is released.
            BucketTable? next = promised.Contains(run) && promised.Tables.TryGetValue(module.Name, out var pt) && pt.BucketCount == table.BucketCount ? pt : null;
            BucketTable? before = lineage.Contains(promised.Id) && baseTables?.GetValueOrDefault(module.Name) is { } bt && bt.BucketCount == table.BucketCount ? bt : null;
            var released = releasedSinceInstall[module.Name];
            var handed = handedOver[module.Name];
            for (int b = 0; b < table.BucketCount; b++)
            {
                if (table.OwnerOf(b) == run.Name && (next is null || next.OwnerOf(b) != run.Name))
                {
                    released.Add(b);

                    // The base gives it to us and the promised view to another: that node takes it from us in the promised
                    // view, so it claims it and hears our drain reports (which list it from now on) before it owns it.
                    if (next is not null && before?.OwnerOf(b) == run.Name)
                    {
                        handed.TryAdd(b, now);
                    }
                }
            }
        }
    }

    /// <summary>
    /// This node installed <paramref name="view"/> after <paramref name="previous"/>. <paramref name="continuous"/>: the
    /// view derives from <paramref name="previous"/>, so "this bucket was mine" means no other node served it since;
    /// otherwise (views were missed) every bucket the view gives this node is claimed, so a node that drains one of
    /// them is heard first, and of the buckets it served until its promises only the ones it handed over (see
    /// <see cref="OnPromised"/>) keep draining, until their drain timeout counted from the release.
    /// <paramref name="fromScratch"/>: the farm's first view: nobody held any bucket.
    /// </summary>
    public void OnInstalled(ClusterView? previous, ClusterView view, bool continuous, bool fromScratch, TimeSpan now)
    {
        bool wasMember = continuous && previous!.Contains(run);
        bool inLineage = !continuous && !fromScratch && lineage.Contains(view.Id);
        foreach (var module in modules)
        {
            releasedSinceInstall[module.Name].Clear();
            var handed = handedOver[module.Name];
            if (!view.Tables.TryGetValue(module.Name, out var table) || !view.Contains(run))
            {
                handed.Clear();
                continue;
            }

            BucketTable? before = wasMember && previous!.Tables.TryGetValue(module.Name, out var t) && t.BucketCount == table.BucketCount ? t : null;
            var claimed = claims[module.Name];
            var draining = drainingUntil[module.Name];
            var drainTimeout = specs[module.Name].DrainTimeout;
            if (wasMember && previous!.Tables.TryGetValue(module.Name, out var old) && old.BucketCount == module.BucketCount && table.BucketCount != old.BucketCount)
            {
                // The agreed definition changed the table's shape and this node keeps its own: what it owned drains (its
                // new owners, counting another way, take only new flows while it does; see DrainedByPeers).
                foreach (int b in Enumerable.Range(0, old.BucketCount).Where(b => old.OwnerOf(b) == run.Name))
                {
                    claimed.Remove(b);
                    draining[b] = now + drainTimeout;
                }

                handed.Clear();
                continue;
            }

            for (int b = 0; b < table.BucketCount; b++)
            {
                bool mineNow = table.OwnerOf(b) == run.Name;
                bool mineBefore = before?.OwnerOf(b) == run.Name;
                if (mineNow && !mineBefore)
                {
                    draining.Remove(b);

                    // Claimed until every other member said whether it still drains the bucket (ResolveClaims). The
                    // farm's first view: nobody held anything.
                    if (!fromScratch)
                    {
                        claimed[b] = NewClaim(module.Name, view.Id, now);
                    }
                }
                else if (!mineNow && mineBefore)
                {
                    claimed.Remove(b);
                    draining[b] = now + drainTimeout;
                }
                else if (!mineNow && inLineage && handed.TryGetValue(b, out var releasedAt) && releasedAt + drainTimeout > now)
                {
                    // Missed views, but this node handed the bucket over within its lineage: it served it until the
                    // promise and its new owner holds it as claimed or incoming while our reports list it.
                    claimed.Remove(b);
                    draining[b] = releasedAt + drainTimeout;
                }
            }

            handed.Clear();
        }

        rejoins.OnInstalled(view.Id, continuous, fromScratch);
        lineage.Clear();
        lineage.Add(view.Id);
    }

    /// <summary>
    /// Buckets of <paramref name="module"/> that another member's latest report says it drains (it serves their
    /// tracked connections: this node must not answer those packets), or null when none. Whether we still hear that
    /// member does not matter: while it is in the installed view its lease may run.
    /// </summary>
    /// <remarks><paramref name="anyBucket"/>: members define the module differently (their bucket numbers are not ours): while
    /// one drains, every bucket counts as drained elsewhere, so this node never answers the connections they serve.</remarks>
    private static HashSet<int>? DrainedByPeers(string module, int bucketCount, IReadOnlyList<DrainReport> memberReports, bool anyBucket)
    {
        HashSet<int>? result = null;
        foreach (var report in memberReports)
        {
            if (report.Find(module) is { Draining.IsEmpty: false } part)
            {
                (result ??= []).UnionWith(anyBucket ? Enumerable.Range(0, bucketCount) : part.Draining);
            }
        }

        return result;
    }

    /// <summary>True when members of <paramref name="view"/> announce different definitions of <paramref name="module"/>.</summary>
    private static bool DefinitionsDiffer(ClusterView view, string module) =>
        view.Members.Select(m => m.DefinitionOf(module)?.Hash).OfType<string>().Distinct(StringComparer.Ordinal).Skip(1).Any();

    /// <summary>The UDP flows the other members still serve in buckets they drain (their encodings, by name).</summary>
    private static ImmutableArray<FlowKey> ForeignFlows(string module, IReadOnlyList<DrainReport> memberReports) =>
        [.. memberReports.SelectMany(r => r.Find(module)?.Flows ?? [])];

    /// <summary>
    /// A claim made in view <paramref name="since"/>: it outlives the previous owner's drain timeout by a detection
    /// timeout, so that owner always lets go first.
    /// </summary>
    private Claim NewClaim(string module, ViewId since, TimeSpan now) => new(since, now + specs[module].DrainTimeout + options.DetectionTimeout);

    /// <summary>Claims every bucket <paramref name="view"/> gives this node, as of view <paramref name="since"/>.</summary>
    private void ClaimAll(ClusterView view, ViewId since, TimeSpan now)
    {
        foreach (var module in modules)
        {
            if (view.Tables.TryGetValue(module.Name, out var table) && table.BucketCount == module.BucketCount)
            {
                var claimed = claims[module.Name];
                for (int b = 0; b < table.BucketCount; b++)
                {
                    if (table.OwnerOf(b) == run.Name)
                    {
                        claimed[b] = NewClaim(module.Name, since, now);
                    }
                }
            }
        }
    }

    /// <summary>A bucket taken over in view <c>Since</c>; the claim ends at <c>Until</c> at the latest.</summary>
    private readonly record struct Claim(ViewId Since, TimeSpan Until);

    /// <summary>When a bucket began to drain: the first snapshot version showing it draining, and the time.</summary>
    private readonly record struct DrainStart(long Version, TimeSpan At);
}

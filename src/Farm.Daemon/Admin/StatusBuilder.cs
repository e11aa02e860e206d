using Farm.Core.Buckets;
using Farm.Daemon.Drain;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Admin;

/// <summary>
/// Builds the node's status report from the membership state (one short lock), the security counters, the running
/// cluster file (its version and weights change live) and the drain switch.
/// </summary>
internal sealed class StatusBuilder(
    ClusterConfig startCluster,
    Func<IReadOnlyList<ModuleConfig>> configured,
    MembershipHost host,
    ReplayGuard peerGuard,
    RejectionLog rejections,
    ModuleHost? modules = null,
    ClusterReloader? reloader = null,
    DrainSwitch? drain = null,
    Transport.RoundTrips? roundTrips = null)
{
    /// <summary>The modules of this node now (modules load and unload live).</summary>
    public IReadOnlyList<ModuleConfig> Modules => configured();

    /// <summary>The membership host the status reads.</summary>
    public MembershipHost Host => host;

    /// <summary>The status now.</summary>
    public Wire.NodeStatusReport Build()
    {
        var report = host.Read((m, now) => Snapshot(m, now));
        foreach (var c in rejections.Snapshot())
        {
            report.Rejected.Add(new Wire.RejectionCounter { Source = c.Source, Reason = c.Reason.Name(), Count = (ulong)c.Count, LastClaimedSender = c.LastClaimedSender });
        }

        foreach (var module in modules?.Snapshot() ?? [])
        {
            report.Modules.Add(ModuleReports.From(module));
        }

        return report;
    }

    /// <summary>
    /// The status now, then again every time something other than its ages changed (and, with
    /// <paramref name="refresh"/>, at least that often, so ages stay fresh), checked every <paramref name="interval"/>
    /// until <paramref name="cancellationToken"/> fires (then the sequence ends).
    /// </summary>
    public async IAsyncEnumerable<Wire.NodeStatusReport> WatchAsync(
        TimeProvider timeProvider,
        TimeSpan interval,
        TimeSpan? refresh = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        Wire.NodeStatusReport? lastKey = null;
        long lastSent = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var report = Build();
            var key = ChangeKey(report);
            if (!key.Equals(lastKey) || (refresh is { } every && timeProvider.GetElapsedTime(lastSent) >= every))
            {
                yield return report;
                lastKey = key;
                lastSent = timeProvider.GetTimestamp();
            }

            try
            {
                await Task.Delay(interval, timeProvider, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                yield break; // the watcher went away
            }
        }
    }

    /// <summary>The report without its ages: equal keys mean nothing worth a new WatchStatus message changed.</summary>
    public static Wire.NodeStatusReport ChangeKey(Wire.NodeStatusReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var key = report.Clone();
        foreach (var node in key.Nodes)
        {
            foreach (var lan in node.Lans)
            {
                lan.LastHeardAgeMs = 0;
                (lan.RttP50Us, lan.RttP99Us, lan.RttSamples) = (0, 0, 0);
            }

            // Drain ages grow by themselves; that a drain runs (or ends) shows in the counts.
            foreach (var buckets in node.Buckets)
            {
                if (buckets.HasOldestDrainAgeMs)
                {
                    buckets.OldestDrainAgeMs = 0;
                }
            }
        }

        return key;
    }

    private Wire.NodeStatusReport Snapshot(MembershipManager m, TimeSpan now)
    {
        // The node set, addresses and LANs never change while farmd runs; weights and version may (config apply, SIGHUP).
        var cluster = reloader?.Running ?? startCluster;
        bool drained = drain?.IsDrained ?? false;
        var installed = m.Installed;
        var mismatches = m.ConfigMismatches;
        var peers = m.PeerStatuses(now).ToDictionary(p => p.Name, StringComparer.Ordinal);
        var bucketCounts = configured().ToDictionary(mod => mod.Name, mod => mod.Buckets, StringComparer.Ordinal);
        foreach (var (module, table) in installed?.Tables ?? ImmutableSortedDictionary<string, BucketTable>.Empty)
        {
            bucketCounts[module] = table.BucketCount;
        }

        var moduleNames = bucketCounts.Keys.Order(StringComparer.Ordinal).ToList();
        var report = new Wire.NodeStatusReport
        {
            Cluster = cluster.Name,
            Node = m.Self.Name,
            Incarnation = m.Self.Incarnation,
            ConfigHash = host.ConfigHash,
            InstalledEpoch = installed?.Id.Epoch ?? 0,
            Coordinator = installed?.Id.Coordinator ?? "",
            Leaving = m.Self.Leaving,
            ConfigVersion = cluster.Version,
        };

        foreach (var node in cluster.Nodes.OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            bool isSelf = node.Name == m.Self.Name;
            var member = installed?.Find(node.Name);
            var status = new Wire.NodeStatus
            {
                Name = node.Name,
                IsSelf = isSelf,
                InView = member is not null,
                Weight = member?.Weight ?? node.Weight,
                Leaving = isSelf ? m.Self.Leaving : member?.Leaving ?? false,
                Incarnation = isSelf ? m.Self.Incarnation : peerGuard.IncarnationOf(node.Name),
                ConfigMatches = !mismatches.ContainsKey(node.Name),
                ConfigHash = isSelf ? host.ConfigHash : mismatches.GetValueOrDefault(node.Name, ""),
            };

            bool everHeard = false;
            for (int lan = 0; lan < cluster.Lans.Count; lan++)
            {
                TimeSpan? heard = isSelf ? now : peers.TryGetValue(node.Name, out var p) ? p.LastHeardPerLan[lan] : null;
                everHeard |= heard is not null;
                long age = heard is { } h ? (long)(now - h).TotalMilliseconds : -1;
                status.Lans.Add(new Wire.LanReachability
                {
                    Lan = cluster.Lans[lan],
                    Address = lan < node.Addresses.Count ? node.Addresses[lan].ToString() : "",
                    // A peer seen dead (the crash fast path) is unreachable on every LAN at once.
                    Reachable = heard is { } t && now - t < host.Options.DetectionTimeout && (isSelf || peers.GetValueOrDefault(node.Name)?.Reachable == true),
                    LastHeardAgeMs = age,
                });
                if (!isSelf && roundTrips?.Of(node.Name, lan) is { Count: > 0 } rtt)
                {
                    (status.Lans[^1].RttP50Us, status.Lans[^1].RttP99Us, status.Lans[^1].RttSamples) = (rtt.P50, rtt.P99, rtt.Count);
                }
            }

            status.State = isSelf || peers.GetValueOrDefault(node.Name)?.Reachable == true ? Wire.NodeState.Up
                : !status.ConfigMatches ? Wire.NodeState.Excluded
                : everHeard ? Wire.NodeState.Down
                : Wire.NodeState.Unknown;

            // Hand-over progress: ours from our own state, a peer's as its latest heartbeat said (only while it is heard).
            var drains = isSelf ? m.DrainStatuses(now)
                : status.State == Wire.NodeState.Up && peers.GetValueOrDefault(node.Name) is { } peer ? peer.Drains
                : (ImmutableArray<ModuleDrainStatus>?)null;
            // A peer's heartbeats say only "leaving": an admin drain or a stop, status cannot tell which.
            bool drainAsked = isSelf ? drained : status.State == Wire.NodeState.Up && (peers.GetValueOrDefault(node.Name)?.Info?.Leaving ?? status.Leaving);
            status.DrainState = DrainProgress.State(drainAsked, DrainProgress.Owned(installed, node.Name), drains ?? []);

            // What a node announced last is only current while it is heard; a silent node's readiness is unknown.
            var ready = isSelf ? m.Self.ReadyModules
                : status.State == Wire.NodeState.Up && peers.GetValueOrDefault(node.Name)?.Info is { } info ? info.ReadyModules
                : (ImmutableArray<string>?)null;
            foreach (string module in moduleNames)
            {
                var buckets = new Wire.ModuleBuckets
                {
                    Module = module,
                    Buckets = installed?.Tables.GetValueOrDefault(module)?.CountOf(node.Name) ?? 0,
                    BucketCount = bucketCounts[module],
                    Readiness = ready is not { } r ? Wire.ModuleReadiness.Unknown
                        : r.Contains(module, StringComparer.Ordinal) ? Wire.ModuleReadiness.Ready
                        : Wire.ModuleReadiness.NotReady,
                };
                if (drains is { } known && (isSelf || !known.IsEmpty))
                {
                    var progress = known.FirstOrDefault(d => d.Module == module);
                    buckets.Incoming = progress?.Incoming ?? 0;
                    buckets.Draining = progress?.Draining ?? 0;
                    if (progress?.OldestDrainAge is { } age)
                    {
                        buckets.OldestDrainAgeMs = (long)age.TotalMilliseconds;
                    }
                }

                status.Buckets.Add(buckets);
            }

            report.Nodes.Add(status);
        }

        foreach (var (node, theirs) in mismatches.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            report.ConfigMismatches.Add(new Wire.ConfigMismatch { Node = node, TheirHash = theirs, OurHash = host.ConfigHash });
        }

        foreach (var mm in m.ModuleMismatches)
        {
            var wire = new Wire.ModuleMismatch { Module = mm.Module, Node = mm.Node, TheirHash = mm.TheirHash, AgreedHash = mm.AgreedHash };
            wire.Settings.AddRange(mm.Settings);
            report.ModuleMismatches.Add(wire);
        }

        return report;
    }
}

using Prometheus;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Telemetry;

/// <summary>
/// The metrics that the node's status report already holds (farmctl status shows the same facts): nodes and their
/// reachability per LAN, heartbeat round trips, the view, buckets and drains, modules and checkers, refused messages.
/// Owns these instruments; <see cref="Update"/> sets them from one report at scrape time, so nothing is added to the
/// heartbeat path.
/// </summary>
internal sealed class StatusMetrics
{
    private readonly Gauge nodeState;
    private readonly Gauge nodeInView;
    private readonly Gauge nodeWeight;
    private readonly Gauge nodeDrainState;
    private readonly Gauge nodeBuckets;
    private readonly Gauge nodeModuleReady;
    private readonly Gauge lanReachable;
    private readonly Gauge lanLastHeard;
    private readonly Gauge rttP50;
    private readonly Gauge rttP99;
    private readonly Gauge rttSamples;
    private readonly Gauge viewEpoch;
    private readonly Gauge configVersion;
    private readonly Gauge configMismatches;
    private readonly Gauge leaving;
    private readonly Gauge moduleBuckets;
    private readonly Gauge moduleBucketCount;
    private readonly Gauge drainOldest;
    private readonly Gauge moduleState;
    private readonly Gauge moduleSubState;
    private readonly Gauge trafficOpen;
    private readonly Gauge primary;
    private readonly Gauge recoveriesInWindow;
    private readonly Gauge checkerUp;
    private readonly Counter rejected;

    public StatusMetrics(IMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        nodeState = factory.CreateGauge("farm_node_state", "State of each node of the cluster file as this node sees it: 1 for its current state, 0 for the others.", ["node", "state"]);
        nodeInView = factory.CreateGauge("farm_node_in_view", "1 when the node is a member of the installed view.", ["node"]);
        nodeWeight = factory.CreateGauge("farm_node_weight", "The node's weight (in the view, else in the cluster file).", ["node"]);
        nodeDrainState = factory.CreateGauge("farm_node_drain_state", "Drain state of each node: 1 for its current state (none, draining, drained), 0 for the others.", ["node", "state"]);
        nodeBuckets = factory.CreateGauge("farm_node_buckets", "Buckets of the module that the installed view gives the node.", ["node", "module"]);
        nodeModuleReady = factory.CreateGauge("farm_node_module_ready", "1 when the node announces the module ready (UP and serving), 0 when not or unknown.", ["node", "module"]);
        lanReachable = factory.CreateGauge("farm_peer_reachable", "1 when the peer was heard on the LAN within the detection timeout.", ["node", "lan"]);
        lanLastHeard = factory.CreateGauge("farm_peer_last_heard_seconds", "Seconds since the peer was last heard on the LAN (absent: never).", ["node", "lan"]);
        rttP50 = factory.CreateGauge("farm_heartbeat_rtt_p50_seconds", "Median heartbeat round trip to the peer on the LAN over the last samples (see farm_heartbeat_rtt_samples).", ["node", "lan"]);
        rttP99 = factory.CreateGauge("farm_heartbeat_rtt_p99_seconds", "99th percentile heartbeat round trip to the peer on the LAN over the last samples.", ["node", "lan"]);
        rttSamples = factory.CreateGauge("farm_heartbeat_rtt_samples", "Number of recent heartbeat round trips the two percentiles are computed from (at most 512).", ["node", "lan"]);
        viewEpoch = factory.CreateGauge("farm_view_epoch", "Epoch of the installed view (0 before the first).");
        configVersion = factory.CreateGauge("farm_config_version", "The version of the running cluster file.");
        configMismatches = factory.CreateGauge("farm_config_mismatches", "Nodes heard with a configuration hash different from ours (not admitted).");
        leaving = factory.CreateGauge("farm_leaving", "1 while this node announces it leaves (drained or stopping).");
        moduleBuckets = factory.CreateGauge("farm_module_buckets", "Buckets of the module on this node by hand-over state: owned (in the view), incoming (taking over), draining (handing over).", ["module", "state"]);
        moduleBucketCount = factory.CreateGauge("farm_module_table_buckets", "Number of buckets of the module's table.", ["module"]);
        drainOldest = factory.CreateGauge("farm_drain_oldest_seconds", "Age of this node's oldest draining bucket of the module (0 when none drains).", ["module"]);
        moduleState = factory.CreateGauge("farm_module_state", "Module state on this node: 1 for the current state (stop, wait, up), 0 for the others.", ["module", "state"]);
        moduleSubState = factory.CreateGauge("farm_module_substate", "Module sub-state on this node: 1 for the current one (not_ready, transient, ready), 0 for the others.", ["module", "substate"]);
        trafficOpen = factory.CreateGauge("farm_module_traffic_open", "1 while this node announces the module ready for traffic.", ["module"]);
        primary = factory.CreateGauge("farm_module_primary", "1 while this node is the primary of a single module.", ["module"]);
        recoveriesInWindow = factory.CreateGauge("farm_module_recoveries_in_window", "Recoveries counted in the module's current loop_interval window (maxloop applies to it).", ["module"]);
        checkerUp = factory.CreateGauge("farm_checker_up", "Last verdict of the checker: 1 up, 0 down (absent before its first check).", ["module", "checker"]);
        rejected = factory.CreateCounter("farm_rejected_messages_total", "Messages and connections refused, by reason (malformed, bad_mac, replayed, foreign_address, ...).", ["reason"]);
    }

    /// <summary>Sets every instrument from <paramref name="report"/>.</summary>
    public void Update(Wire.NodeStatusReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        viewEpoch.Set(report.InstalledEpoch);
        configVersion.Set(report.ConfigVersion);
        configMismatches.Set(report.ConfigMismatches.Count);
        leaving.Set(report.Leaving ? 1 : 0);
        foreach (var node in report.Nodes)
        {
            UpdateNode(node);
        }

        foreach (var module in report.Modules)
        {
            UpdateModule(module);
        }

        foreach (var byReason in report.Rejected.GroupBy(r => r.Reason, StringComparer.Ordinal))
        {
            rejected.WithLabels(byReason.Key).IncTo(byReason.Sum(r => (double)r.Count));
        }
    }

    private void UpdateNode(Wire.NodeStatus node)
    {
        string state = node.State switch
        {
            Wire.NodeState.Up => "up",
            Wire.NodeState.Down => "down",
            Wire.NodeState.Excluded => "excluded",
            _ => "unknown",
        };
        SetOneOf(nodeState, node.Name, MetricNames.NodeStates, state);
        nodeInView.WithLabels(node.Name).Set(node.InView ? 1 : 0);
        nodeWeight.WithLabels(node.Name).Set(node.Weight);
        string drain = node.DrainState switch
        {
            Wire.DrainState.Draining => "draining",
            Wire.DrainState.Drained => "drained",
            _ => "none",
        };
        SetOneOf(nodeDrainState, node.Name, MetricNames.DrainStates, drain);

        foreach (var buckets in node.Buckets)
        {
            nodeBuckets.WithLabels(node.Name, buckets.Module).Set(buckets.Buckets);
            nodeModuleReady.WithLabels(node.Name, buckets.Module).Set(buckets.Readiness == Wire.ModuleReadiness.Ready ? 1 : 0);
            if (node.IsSelf)
            {
                moduleBucketCount.WithLabels(buckets.Module).Set(buckets.BucketCount);
                moduleBuckets.WithLabels(buckets.Module, "owned").Set(buckets.Buckets);
                moduleBuckets.WithLabels(buckets.Module, "incoming").Set(buckets.Incoming);
                moduleBuckets.WithLabels(buckets.Module, "draining").Set(buckets.Draining);
                drainOldest.WithLabels(buckets.Module).Set(buckets.HasOldestDrainAgeMs ? buckets.OldestDrainAgeMs / 1000.0 : 0);
            }
        }

        if (node.IsSelf)
        {
            return;
        }

        foreach (var lan in node.Lans)
        {
            lanReachable.WithLabels(node.Name, lan.Lan).Set(lan.Reachable ? 1 : 0);
            if (lan.LastHeardAgeMs >= 0)
            {
                lanLastHeard.WithLabels(node.Name, lan.Lan).Set(lan.LastHeardAgeMs / 1000.0);
            }

            if (lan.RttSamples > 0)
            {
                rttP50.WithLabels(node.Name, lan.Lan).Set(lan.RttP50Us / 1e6);
                rttP99.WithLabels(node.Name, lan.Lan).Set(lan.RttP99Us / 1e6);
                rttSamples.WithLabels(node.Name, lan.Lan).Set(lan.RttSamples);
            }
        }
    }

    private void UpdateModule(Wire.ModuleReport module)
    {
        string state = module.State switch
        {
            Wire.ModuleRunState.Stop => "stop",
            Wire.ModuleRunState.Wait => "wait",
            _ => "up",
        };
        SetOneOf(moduleState, module.Module, MetricNames.ModuleStates, state);
        string subState = module.SubState switch
        {
            Wire.ModuleSubState.NotReady => "not_ready",
            Wire.ModuleSubState.Transient => "transient",
            _ => "ready",
        };
        SetOneOf(moduleSubState, module.Module, MetricNames.ModuleSubStates, subState);
        trafficOpen.WithLabels(module.Module).Set(module.TrafficOpen ? 1 : 0);
        primary.WithLabels(module.Module).Set(module.Primary ? 1 : 0);
        recoveriesInWindow.WithLabels(module.Module).Set(module.RecoveryCount);
        foreach (var checker in module.Checkers)
        {
            if (checker.HasUp)
            {
                checkerUp.WithLabels(module.Module, checker.Name).Set(checker.Up ? 1 : 0);
            }
            else
            {
                checkerUp.RemoveLabelled(module.Module, checker.Name);
            }
        }
    }

    /// <summary>An enum as one series per value: 1 for <paramref name="current"/>, 0 for the others (the Prometheus idiom).</summary>
    private static void SetOneOf(Gauge gauge, string owner, string[] values, string current)
    {
        foreach (string value in values)
        {
            gauge.WithLabels(owner, value).Set(value == current ? 1 : 0);
        }
    }
}

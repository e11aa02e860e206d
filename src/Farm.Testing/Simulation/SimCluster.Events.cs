using Farm.Cluster.Membership;
using Farm.Core.Config;

namespace Farm.Testing.Simulation;

/// <summary>The events of the simulation: ticks, polls, resumptions and message deliveries, each calling a node's driver.</summary>
public sealed partial class SimCluster
{
    private abstract record SimEvent
    {
        public abstract void Run(SimCluster sim);
    }

    private sealed record TickEvent(SimNode Node, int Incarnation) : SimEvent
    {
        public override void Run(SimCluster sim)
        {
            if (Node.Incarnation != Incarnation || Node.State == SimNodeState.Crashed)
            {
                return; // that run is over
            }

            if (Node.State == SimNodeState.Up)
            {
                if (sim.Options.SplitBrainPolicy == SplitBrainPolicy.Witness && !sim.IsBlocked(Node.Name, "witness"))
                {
                    Node.Manager!.ReportWitnessReached(sim.Now);
                }

                sim.ProbeReaders(Node);
                var effects = Node.Driver!.Tick(sim.Now);
                sim.Apply(Node, effects, sim.ReportDrains(Node, force: true));
            }

            // A paused node skips ticks; it ticks again when resumed.
            sim.Schedule(sim.Now + sim.Options.HeartbeatInterval, this);
        }
    }

    /// <summary>The transport of <see cref="Node"/> saw <see cref="Peer"/>'s process die: notes it gone, then polls (as farmd's host wakes).</summary>
    private sealed record GoneEvent(SimNode Node, int Incarnation, string Peer) : SimEvent
    {
        public override void Run(SimCluster sim)
        {
            if (Node.State != SimNodeState.Up || Node.Incarnation != Incarnation)
            {
                return;
            }

            if (Node.Starved)
            {
                Node.Deferred.Add(this); // the transport's threads do not run
                return;
            }

            bool gone = false;
            for (int lan = 0; lan < sim.Options.LanCount; lan++)
            {
                gone |= !sim.DownLans.Contains(lan) && Node.Driver!.Manager.NotePeerGone(Peer, lan, sim.Now);
            }

            if (gone)
            {
                sim.Apply(Node, Node.Driver!.Poll(sim.Now));
            }
        }
    }

    private sealed record PollEvent(SimNode Node, int Incarnation) : SimEvent
    {
        public override void Run(SimCluster sim)
        {
            if (Node.Incarnation != Incarnation || Node.State == SimNodeState.Crashed)
            {
                return;
            }

            if (Node.State == SimNodeState.Up)
            {
                sim.ProbeReaders(Node);
                sim.Apply(Node, Node.Driver!.Poll(sim.Now));
            }

            sim.Schedule(sim.Now + sim.PollInterval!.Value, this);
        }
    }

    private sealed record ResumeEvent(SimNode Node, int Incarnation, bool TickFirst) : SimEvent
    {
        public override void Run(SimCluster sim)
        {
            if (Node.Incarnation == Incarnation && Node.State == SimNodeState.Paused)
            {
                Node.State = SimNodeState.Up;
                sim.Note($"resume {Node.Name}");
                if (TickFirst)
                {
                    sim.Apply(Node, Node.Driver!.Tick(sim.Now), sim.ReportDrains(Node, force: true));
                }

                sim.ReadDeferred(Node);
            }
        }
    }

    /// <summary>What reached <paramref name="node"/> while it did not read (paused or starved) is read now, in order.</summary>
    private void ReadDeferred(SimNode node)
    {
        foreach (var deferred in node.Deferred)
        {
            Schedule(Now, (SimEvent)deferred);
        }

        node.Deferred.Clear();
    }

    /// <summary>The end of <see cref="Starve"/>: the probe of the readers runs, held messages leave, waiting ones are read.</summary>
    private sealed record FedEvent(SimNode Node, int Incarnation) : SimEvent
    {
        public override void Run(SimCluster sim)
        {
            if (Node.Incarnation != Incarnation || !Node.Starved)
            {
                return;
            }

            Node.Starved = false;
            sim.Note($"{Node.Name} fed");
            if (Node.ProbeWaitingSince is { } queued)
            {
                Node.ProbeRan = (queued, sim.Now);
                Node.ProbeWaitingSince = null;
            }

            var held = Node.Held.ToList();
            Node.Held.Clear();
            sim.Send(Node, held);
            sim.ReadDeferred(Node);
        }
    }

    /// <summary>A probe of a peer's port, from the connect to its refusal.</summary>
    private static readonly TimeSpan ProbeDelay = TimeSpan.FromMilliseconds(1);

    private sealed record DeliverRequest(SimNode From, int FromIncarnation, SimNode To, OutboundRequest Request) : SimEvent
    {
        public override void Run(SimCluster sim)
        {
            if (To.State == SimNodeState.Crashed || To.Driver is null)
            {
                return;
            }

            if (To.State == SimNodeState.Paused || To.Starved)
            {
                To.Deferred.Add(this); // sits in the socket buffer until the process (its readers) runs again
                return;
            }

            var (reply, effects) = To.Driver.HandleRequest(From.Name, Request.Lan, Request.Message, sim.Now);
            sim.Apply(To, effects);
            if (Request.Message is HeartbeatRequest { Gone.Count: > 0 } told)
            {
                // farmd's host probes the port of each peer the sender saw die and this node still hears: a process that
                // is gone refuses within a round trip (SimCluster.ProbeDelay).
                foreach (string peer in To.Driver.Manager.GoneToConfirm(told, sim.Now).ToList())
                {
                    if (sim[peer] is { State: SimNodeState.Crashed, ProcessGone: true })
                    {
                        sim.Schedule(sim.Now + ProbeDelay, new GoneEvent(To, To.Incarnation, peer));
                    }
                }
            }

            if (Request.Message is HeartbeatRequest { Quiet: true })
            {
                return; // answered by nothing, as on farmd's heartbeat stream
            }

            sim.Replied?.Invoke(To.Name, From.Name, reply);
            if (sim.IsBlocked(To.Name, From.Name) || sim.DownLans.Contains(Request.Lan) || sim.random.NextDouble() < sim.Loss)
            {
                return;
            }

            sim.Schedule(sim.Now + sim.RandomDelay(sim.MaxDelay), new DeliverReply(From, FromIncarnation, Request.CorrelationId, reply));
        }
    }

    private sealed record DeliverReply(SimNode To, int ToIncarnation, long CorrelationId, MembershipMessage Reply) : SimEvent
    {
        public override void Run(SimCluster sim)
        {
            if (To.Incarnation != ToIncarnation || To.State == SimNodeState.Crashed)
            {
                return;
            }

            if (To.State == SimNodeState.Paused || To.Starved)
            {
                To.Deferred.Add(this);
                return;
            }

            sim.Apply(To, To.Driver!.HandleReply(CorrelationId, Reply, sim.Now));
        }
    }
}

using System.Diagnostics.CodeAnalysis;

namespace Farm.Cluster.Membership;

/// <summary>
/// The requests of one node in flight: the outbox the host drains after every call, and the requests sent and not
/// yet answered, each under its correlation id, until the answer comes or the detection timeout passes.
/// </summary>
internal sealed class RequestLedger
{
    private readonly List<OutboundRequest> outbox = [];
    private readonly Dictionary<long, PendingRequest> pending = [];
    private long nextCorrelation;

    /// <summary>
    /// Queues <paramref name="message"/> for <paramref name="to"/> on <paramref name="lan"/> and awaits its answer, unless
    /// it is a quiet heartbeat: an answer to that (a peer of an older release answers every heartbeat) is then ignored.
    /// </summary>
    public void Send(string to, int lan, MembershipMessage message, TimeSpan now)
    {
        long id = ++nextCorrelation;
        if (message is not HeartbeatRequest { Quiet: true })
        {
            pending[id] = new PendingRequest(to, lan, now, message);
        }

        outbox.Add(new OutboundRequest(id, to, lan, message));
    }

    /// <summary>Requests to send, in order; the caller owns the list.</summary>
    public IReadOnlyList<OutboundRequest> TakeOutbox()
    {
        if (outbox.Count == 0)
        {
            return []; // the common case: the host polls every few milliseconds
        }

        var result = outbox.ToArray();
        outbox.Clear();
        return result;
    }

    /// <summary>Ends the wait for request <paramref name="correlationId"/>; false when it already ended (a late or duplicate answer).</summary>
    public bool TryComplete(long correlationId, [MaybeNullWhen(false)] out PendingRequest request) =>
        pending.Remove(correlationId, out request);

    /// <summary>The requests sent at least <paramref name="timeout"/> before <paramref name="now"/>, or null when none.</summary>
    public List<long>? Expired(TimeSpan now, TimeSpan timeout)
    {
        List<long>? expired = null;
        foreach (var (id, request) in pending)
        {
            if (now - request.SentAt >= timeout)
            {
                (expired ??= []).Add(id);
            }
        }

        return expired;
    }
}

/// <summary>A request sent and not answered yet.</summary>
internal sealed record PendingRequest(string To, int Lan, TimeSpan SentAt, MembershipMessage Message);

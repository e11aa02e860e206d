using System.Collections.Immutable;
using Farm.Core.Buckets;
using Microsoft.Extensions.Logging;

namespace Farm.Cluster.Membership;

/// <summary>
/// This node as a member of views: answers Prepare (promises) and Commit (installs), fetches a newer committed view
/// it hears of, and holds the installed view, the pending promise and the highest epoch seen. Every promise and
/// install goes to the <see cref="IViewListener"/>. See docs/architecture.md ("Views").
/// </summary>
internal sealed partial class ViewAcceptor(
    IReadOnlyList<ModuleSpec> modules, MemberInfo run, PeerMonitor peers, RequestLedger requests, IViewListener listener, ILogger logger)
{
    private ClusterView? installed;
    private ClusterView? promised;
    private bool promisedFromScratch;
    private ViewId? promisedBase;
    private ClusterView? fetched;
    private long maxEpochSeen;
    private bool fetchOutstanding;

    /// <summary>The installed (committed) view, or null before the first.</summary>
    public ClusterView? Installed => installed;

    /// <summary>The view this node promised and not yet installed, or null.</summary>
    public ClusterView? Promised => promised;

    /// <summary>The latest view fetched from a peer (a base for proposals), or null.</summary>
    public ClusterView? Fetched => fetched;

    /// <summary>The newest view the states follow: a pending promise (its releases drain already), else the installed view.</summary>
    public ViewId? Reflects => promised is not null && ViewId.Compare(promised.Id, installed?.Id) > 0 ? promised.Id : installed?.Id;

    /// <summary>An epoch higher than any this node installed, promised or heard of.</summary>
    public long NextEpoch => Math.Max(maxEpochSeen, Math.Max(installed?.Id.Epoch ?? 0, promised?.Id.Epoch ?? 0)) + 1;

    /// <summary>A peer reported views of epoch <paramref name="epoch"/>.</summary>
    public void NoteEpoch(long epoch) => maxEpochSeen = Math.Max(maxEpochSeen, epoch);

    /// <summary>True when both our installed view and our pending promise (if any) list <paramref name="other"/>.</summary>
    public bool IncludesRun(MemberInfo other) =>
        installed is not null && installed.Contains(other) && (promised is null || promised.Contains(other));

    /// <summary>Phase 1: promises the proposed view unless it is older than ours, leaves us or a node we hear out, or its tables differ.</summary>
    public PrepareReply OnPrepare(PrepareRequest request, TimeSpan now)
    {
        PrepareReply Reject(string reason, bool needsBase = false, ImmutableArray<MemberInfo> stillHeard = default) =>
            new(request.Id, false, reason, needsBase, stillHeard.IsDefault ? [] : stillHeard,
                stillHeard.IsDefault ? [] : [.. stillHeard.Select(m => peers.VouchesUntil(peers.Find(m.Name)!) - now)]);

        if (!request.Members.Any(m => m.IsSameRun(run)))
        {
            return Reject($"{run.Name}#{run.Incarnation} is not in the proposed view");
        }

        if (promised is { } p && request.Id <= p.Id)
        {
            return request.Id == p.Id ? new PrepareReply(request.Id, true, null, false, []) : Reject($"already promised {p.Id}");
        }

        if (installed is { } i && request.Id <= i.Id)
        {
            return Reject($"already installed {i.Id}");
        }

        // Every node we hear must be in the view: a live node left out would keep serving the buckets the view
        // gives away. This also covers the runs the coordinator removes (we must not have heard them for the
        // detection timeout), and nodes of our own older views that the coordinator does not know about. "Hear"
        // needs a proof of life within the detection timeout, not just a message received (PeerMonitor.Vouches).
        var stillHeard = peers.All
            .Where(p => peers.Vouches(p, now) && !request.Members.Any(m => m.IsSameRun(p.Info!)))
            .Select(p => p.Info!)
            .ToImmutableArray();
        if (!stillHeard.IsEmpty)
        {
            return Reject($"{run.Name} still hears {string.Join(", ", stillHeard.Select(m => m.Name))}", stillHeard: stillHeard);
        }

        ImmutableSortedDictionary<string, BucketTable>? baseTables = null;
        if (request.Base is { } baseId)
        {
            baseTables = request.BaseTables
                ?? (installed?.Id == baseId ? installed.Tables
                    : fetched?.Id == baseId ? fetched.Tables
                    : promised?.Id == baseId ? promised.Tables
                    : null);
            if (baseTables is null)
            {
                return Reject($"{run.Name} does not hold base view {baseId}", needsBase: true);
            }
        }

        var tables = ClusterView.ComputeTables(baseTables, request.Members, modules, request.Id.Epoch);
        if (ClusterView.ComputeFingerprint(tables) != request.TablesFingerprint)
        {
            // Our copy of the base differs from the coordinator's (or a module configuration does): ask for its base.
            Log.TablesDiffer(logger, request.Id);
            return Reject($"{run.Name} computed different bucket tables for {request.Id}", needsBase: request.BaseTables is null);
        }

        promised = new ClusterView(request.Id, request.Members, tables);
        promisedFromScratch = request.Base is null;
        promisedBase = request.Base;
        maxEpochSeen = Math.Max(maxEpochSeen, request.Id.Epoch);
        listener.Promised(installed, promised, request.Base, baseTables, now);
        return new PrepareReply(request.Id, true, null, false, []);
    }

    /// <summary>Phase 2: installs the promised view the coordinator committed.</summary>
    public CommitReply OnCommit(CommitRequest request, TimeSpan now)
    {
        if (installed is { } i && i.Id >= request.Id)
        {
            return new CommitReply(request.Id, true);
        }

        if (promised is { } p && p.Id == request.Id)
        {
            Install(p, now, fromScratch: promisedFromScratch, baseId: promisedBase);
            return new CommitReply(request.Id, true);
        }

        return new CommitReply(request.Id, false);
    }

    /// <summary>The coordinator here committed view <paramref name="id"/>: installs it unless a newer promise came meanwhile (false then).</summary>
    public bool CommitOwn(ViewId id, TimeSpan now)
    {
        if (promised?.Id != id)
        {
            return false; // we promised a newer view meanwhile: this one must not commit
        }

        Install(promised, now, fromScratch: promisedFromScratch, baseId: promisedBase);
        return true;
    }

    /// <summary>Fetches the newest committed view a reachable peer holds when it is newer than ours and our promise.</summary>
    public void CatchUp(TimeSpan now)
    {
        if (fetchOutstanding)
        {
            return;
        }

        IPeer? best = null;
        foreach (var peer in peers.All)
        {
            if (peers.Reachable(peer, now) && ViewId.Compare(peer.Installed, best?.Installed ?? installed?.Id) > 0)
            {
                best = peer;
            }
        }

        if (best?.Installed is { } id && (promised is null || id >= promised.Id))
        {
            RequestView(best.Name, now);
        }
    }

    /// <summary>Asks <paramref name="holder"/> for its installed view, unless a fetch is under way.</summary>
    public void RequestView(string holder, TimeSpan now)
    {
        if (!fetchOutstanding)
        {
            fetchOutstanding = true;
            requests.Send(holder, peers.BestLan(holder), new GetViewRequest(), now);
        }
    }

    /// <summary>A fetch failed (timeout, refused): the next may start.</summary>
    public void OnFetchFailed() => fetchOutstanding = false;

    /// <summary>A fetch answered with <paramref name="view"/> (null: the peer has none).</summary>
    public void OnFetched(ClusterView? view, TimeSpan now)
    {
        fetchOutstanding = false;
        if (view is null || view.Id == installed?.Id)
        {
            return;
        }

        fetched = view; // a base for proposals: a newer view, or one of the same epoch as ours (ViewCoordinator.ChooseBase)
        if (ViewId.Compare(view.Id, installed?.Id) <= 0)
        {
            return;
        }

        // A committed view that lists us was promised by us (every member acknowledged it), so installing
        // it is safe. One that does not list us is kept only as a base: a live node outside a view is a
        // partition, and the coordinator will merge us.
        if (view.Contains(run) && (promised is null || view.Id >= promised.Id))
        {
            Install(view, now);
        }
    }

    /// <summary>
    /// Installs a committed view. <paramref name="fromScratch"/>: the farm's first view (no base): nobody held any bucket.
    /// <paramref name="baseId"/>: the view its tables derive from, when known. Only when that is the view installed here
    /// does "this bucket was mine" mean no other node served it since (see <see cref="HandoverLedger.OnInstalled"/>).
    /// </summary>
    private void Install(ClusterView view, TimeSpan now, bool fromScratch = false, ViewId? baseId = null)
    {
        var previous = installed;
        bool continuous = previous is not null && baseId is not null && previous.Id == baseId;
        installed = view;
        if (promised is not null && promised.Id <= view.Id)
        {
            promised = null;
        }

        maxEpochSeen = Math.Max(maxEpochSeen, view.Id.Epoch);
        listener.Installed(previous, view, continuous, fromScratch, now);
        if (logger.IsEnabled(LogLevel.Information))
        {
            Log.Installed(logger, view.Id, string.Join(", ", view.Members.Select(m => m.Name)), view.Contains(run));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Installed view {View}: {Members} (this node is a member: {IsMember})")]
        public static partial void Installed(ILogger logger, ViewId view, string members, bool isMember);

        [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "Computed bucket tables differ from the coordinator's for view {View}")]
        public static partial void TablesDiffer(ILogger logger, ViewId view);
    }
}

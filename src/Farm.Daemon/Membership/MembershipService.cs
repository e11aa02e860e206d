using System.Net;
using Farm.Cluster.Membership;
using Farm.Daemon.Security;
using Farm.Daemon.Transport;
using Farm.Protocol;
using Farm.Protocol.Security;
using Farm.Rpc;
using Farm.Rpc.Server;
using Microsoft.Extensions.Logging;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Membership;

/// <summary>Serves <c>farm.v1.Membership</c>: opens each request envelope, lets the manager answer, seals the reply.</summary>
internal sealed partial class MembershipService
{
    private readonly MembershipHost host;
    private readonly EnvelopeAuthenticator authenticator;
    private readonly ReplayGuard guard;
    private readonly Func<string, bool> isPeer;
    private readonly ILogger logger;

    /// <param name="host">The membership host.</param>
    /// <param name="authenticator">Opens requests, seals replies.</param>
    /// <param name="guard">Replay windows of membership peers.</param>
    /// <param name="peerNames">Every other node of the cluster file: the only accepted senders.</param>
    /// <param name="logger">Logger.</param>
    public MembershipService(MembershipHost host, EnvelopeAuthenticator authenticator, ReplayGuard guard, IEnumerable<string> peerNames, ILogger<MembershipService> logger)
    {
        this.host = host;
        this.authenticator = authenticator;
        this.guard = guard;
        isPeer = new HashSet<string>(peerNames, StringComparer.Ordinal).Contains; // one delegate, not one per request
        this.logger = logger;
    }

    /// <summary>Registers the four methods.</summary>
    public void Register(RpcServiceBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder
            .AddUnary(MembershipMethods.Heartbeat, (e, c) => Task.FromResult(Handle(MembershipMethods.Heartbeat.FullName, e, c)))
            .AddUnary(MembershipMethods.Prepare, (e, c) => Task.FromResult(Handle(MembershipMethods.Prepare.FullName, e, c)))
            .AddUnary(MembershipMethods.Commit, (e, c) => Task.FromResult(Handle(MembershipMethods.Commit.FullName, e, c)))
            .AddUnary(MembershipMethods.GetView, (e, c) => Task.FromResult(Handle(MembershipMethods.GetView.FullName, e, c)));
    }

    /// <summary>The source under which refusals are counted: the remote IP address, or "local".</summary>
    internal static string SourceOf(RpcCallContext context) =>
        context.Peer is { } peer && IPEndPoint.TryParse(peer, out var endpoint) ? endpoint.Address.ToString() : context.Peer ?? "local";

    private Wire.Envelope Handle(string method, Wire.Envelope envelope, RpcCallContext context)
    {
        if (authenticator.Open(method, EnvelopeKind.Request, envelope, SourceOf(context), guard, isPeer) is { } reason)
        {
            throw new RpcException(StatusCode.Unauthenticated, "refused: " + reason.Name());
        }

        if (envelope.Lan >= host.Options.LanCount)
        {
            throw new RpcException(StatusCode.InvalidArgument, $"LAN {envelope.Lan} does not exist.");
        }

        MembershipMessage request;
        try
        {
            request = MessageMapper.ParseRequest(method, envelope.Payload);
        }
        catch (FormatException ex)
        {
            Log.Malformed(logger, envelope.Sender, ex.Message);
            throw new RpcException(StatusCode.InvalidArgument, ex.Message);
        }

        var reply = host.HandleRequest(envelope.Sender, (int)envelope.Lan, request);
        return authenticator.Seal(method, EnvelopeKind.Reply, envelope.Lan, envelope.Seq, MessageMapper.ToProto(reply));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 310, Level = LogLevel.Warning, Message = "Malformed membership request from {Sender}: {Problem}")]
        public static partial void Malformed(ILogger logger, string sender, string problem);
    }
}

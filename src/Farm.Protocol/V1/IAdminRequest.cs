namespace Farm.Protocol.V1;

/// <summary>
/// A request of <c>farm.v1.Admin</c>: its query plain (over the local socket) or sealed in an envelope (over TCP), and
/// the reply it gets; lets one generic call serve every admin method on both sides.
/// </summary>
/// <typeparam name="TQuery">The query it carries.</typeparam>
/// <typeparam name="TReply">The reply the method answers it with.</typeparam>
public interface IAdminRequest<TQuery, TReply>
    where TQuery : class
    where TReply : class
{
    /// <summary>The query, plain (over the local socket).</summary>
    TQuery? Query { get; set; }

    /// <summary>The query sealed for the node (over TCP).</summary>
    Envelope? Sealed { get; set; }
}

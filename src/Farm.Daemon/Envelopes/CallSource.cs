namespace Farm.Daemon.Envelopes;

/// <summary>Who delivered a call: the remote IP address over TCP, nothing over the admin Unix socket.</summary>
internal static class CallSource
{
    /// <summary>The remote address (IPv4-mapped IPv6 addresses as IPv4), or null on the Unix socket.</summary>
    public static IPAddress? RemoteAddress(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var address = context.GetHttpContext().Connection.RemoteIpAddress;
        return address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;
    }

    /// <summary>True for a call over the admin Unix socket (no IP remote end): root only by the socket's mode.</summary>
    public static bool IsLocal(ServerCallContext context) => RemoteAddress(context) is null;

    /// <summary>The source under which refusals are counted: the remote IP address, or "local".</summary>
    public static string Of(ServerCallContext context) => RemoteAddress(context)?.ToString() ?? "local";

    /// <summary>The status a refused envelope gets (never the reason's details beyond its name).</summary>
    public static RpcException Refused(RejectReason reason) => reason switch
    {
        RejectReason.UnsupportedProtocol => new RpcException(new Status(StatusCode.FailedPrecondition,
            "refused: unsupported_protocol (this farmd speaks farm protocol " + Farm.Protocol.ProtocolRange.Current + "; the caller runs another Farm release)")),
        RejectReason.WrongRecipient => new RpcException(new Status(StatusCode.PermissionDenied, "refused: wrong_recipient")),
        _ => new RpcException(new Status(StatusCode.Unauthenticated, "refused: " + reason.Name())),
    };
}

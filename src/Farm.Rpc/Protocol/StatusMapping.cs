using System.Globalization;
using System.Net;

namespace Farm.Rpc.Protocol;

/// <summary>Maps transport-level outcomes to gRPC status codes, per the gRPC HTTP-to-status table.</summary>
internal static class StatusMapping
{
    /// <summary>Status for a response whose HTTP status is not 200 and that carries no <c>grpc-status</c>.</summary>
    public static StatusCode FromHttpStatus(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest => StatusCode.Internal,
        HttpStatusCode.Unauthorized => StatusCode.Unauthenticated,
        HttpStatusCode.Forbidden => StatusCode.PermissionDenied,
        HttpStatusCode.NotFound => StatusCode.Unimplemented,
        HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable
            or HttpStatusCode.GatewayTimeout => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };

    /// <summary>Status for an HTTP/2 RST_STREAM or GOAWAY error code.</summary>
    public static StatusCode FromHttp2ErrorCode(long errorCode) => errorCode switch
    {
        0x7 => StatusCode.Unavailable,       // REFUSED_STREAM: the server did not process the call
        0x8 => StatusCode.Cancelled,         // CANCEL
        0xB => StatusCode.ResourceExhausted, // ENHANCE_YOUR_CALM
        0xC => StatusCode.PermissionDenied,  // INADEQUATE_SECURITY
        _ => StatusCode.Internal,
    };

    /// <summary>Parses a <c>grpc-status</c> value; null when it is not a non-negative integer.</summary>
    public static StatusCode? ParseStatus(string? value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int code) ? (StatusCode)code : null;

    /// <summary>Formats a status code for <c>grpc-status</c>.</summary>
    public static string Format(StatusCode code) => ((int)code).ToString(CultureInfo.InvariantCulture);
}

namespace Farm.Rpc;

/// <summary>A call that ended with a non-OK status; handlers throw it to return a specific status.</summary>
public sealed class RpcException : Exception
{
    /// <summary>Creates an exception for <paramref name="statusCode"/> with a human-readable detail.</summary>
    public RpcException(StatusCode statusCode, string detail)
        : this(statusCode, detail, innerException: null)
    {
    }

    /// <summary>Creates an exception for <paramref name="statusCode"/> that wraps the local cause.</summary>
    public RpcException(StatusCode statusCode, string detail, Exception? innerException)
        : base(FormatMessage(statusCode, detail), innerException)
    {
        StatusCode = statusCode;
        Detail = detail ?? string.Empty;
    }

    /// <summary>Creates an <see cref="StatusCode.Unknown"/> exception (standard exception constructor).</summary>
    public RpcException()
        : this(StatusCode.Unknown, string.Empty)
    {
    }

    /// <summary>Creates an <see cref="StatusCode.Unknown"/> exception (standard exception constructor).</summary>
    public RpcException(string message)
        : this(StatusCode.Unknown, message)
    {
    }

    /// <summary>Creates an <see cref="StatusCode.Unknown"/> exception (standard exception constructor).</summary>
    public RpcException(string message, Exception innerException)
        : this(StatusCode.Unknown, message, innerException)
    {
    }

    /// <summary>The status code of the call.</summary>
    public StatusCode StatusCode { get; }

    /// <summary>The status message (<c>grpc-message</c>), already percent-decoded.</summary>
    public string Detail { get; }

    private static string FormatMessage(StatusCode statusCode, string? detail) =>
        $"Status(StatusCode=\"{statusCode}\", Detail=\"{detail}\")";
}

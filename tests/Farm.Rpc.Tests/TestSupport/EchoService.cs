using Farm.Rpc.Server;
using Farm.Rpc.Tests.Interop;
using Google.Protobuf;

namespace Farm.Rpc.Tests.TestSupport;

/// <summary>Method descriptors of the test-only farm.interop.v1.Echo service.</summary>
internal static class EchoMethods
{
    public const string ServiceName = "farm.interop.v1.Echo";

    public static readonly RpcMethod<EchoRequest, EchoReply> Unary =
        new(ServiceName, "Unary", EchoRequest.Parser, EchoReply.Parser);

    public static readonly RpcMethod<StreamRequest, EchoReply> Stream =
        new(ServiceName, "Stream", StreamRequest.Parser, EchoReply.Parser);

    /// <summary>A method the server does not implement.</summary>
    public static readonly RpcMethod<EchoRequest, EchoReply> Missing =
        new(ServiceName, "NoSuchMethod", EchoRequest.Parser, EchoReply.Parser);

    /// <summary>A method of a service the server does not host.</summary>
    public static readonly RpcMethod<EchoRequest, EchoReply> MissingService =
        new("farm.interop.v1.Nobody", "Unary", EchoRequest.Parser, EchoReply.Parser);
}

/// <summary>
/// The C# side of the Echo service; same behaviour as interop/server.js. Special cases:
/// fail_with_code -1 throws a plain exception (a handler bug); text "ignore-token" waits without its token.
/// </summary>
internal sealed class EchoService(TimeProvider timeProvider)
{
    public const string IgnoreTokenText = "ignore-token";
    public const string SecretExceptionText = "secret internal detail 42";

    /// <summary>Completes when a handler saw its cancellation token fire.</summary>
    public TaskCompletionSource HandlerCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The context of the last call, for metadata and deadline assertions.</summary>
    public RpcCallContext? LastContext { get; private set; }

    public async Task<EchoReply> UnaryAsync(EchoRequest request, RpcCallContext context)
    {
        LastContext = context;
        await DelayAsync(request.DelayMs, request.Text == IgnoreTokenText ? CancellationToken.None : context.CancellationToken);
        ThrowIfAsked(request.FailWithCode, request.FailMessage);
        string key = request.EchoMetadataKey;
        return new EchoReply
        {
            Text = request.Text,
            Payload = ByteString.CopyFrom(new byte[request.ReplyPayloadSize]),
            MetadataValue = key.Length > 0 ? context.RequestHeaders.GetValue(key) ?? string.Empty : string.Empty,
        };
    }

    public async Task StreamAsync(StreamRequest request, IRpcStreamWriter<EchoReply> responses, RpcCallContext context)
    {
        LastContext = context;
        for (int i = 0; i < request.Count; i++)
        {
            if (i > 0)
            {
                await DelayAsync(request.DelayMs, context.CancellationToken);
            }

            await responses.WriteAsync(new EchoReply { Text = $"{request.Text}:{i}", Index = i }, context.CancellationToken);
        }

        ThrowIfAsked(request.FailWithCode, request.FailMessage);
    }

    private static void ThrowIfAsked(int code, string message)
    {
        if (code == -1)
        {
            throw new InvalidOperationException(SecretExceptionText);
        }

        if (code != 0)
        {
            throw new RpcException((StatusCode)code, message);
        }
    }

    private async Task DelayAsync(int milliseconds, CancellationToken cancellationToken)
    {
        if (milliseconds <= 0)
        {
            return;
        }

        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(milliseconds), timeProvider, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            HandlerCancelled.TrySetResult();
            throw;
        }
    }
}

using Google.Protobuf;

namespace Farm.Rpc.Server;

/// <summary>Sends the messages of a server-streaming response; one write at a time.</summary>
/// <typeparam name="T">Response message type.</typeparam>
public interface IRpcStreamWriter<in T>
    where T : IMessage<T>
{
    /// <summary>Frames, sends and flushes one message; throws once the call has completed.</summary>
    Task WriteAsync(T message, CancellationToken cancellationToken = default);
}

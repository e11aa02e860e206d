using Google.Protobuf;

namespace Farm.Rpc;

/// <summary>Describes one RPC method: its path (<c>/package.Service/Method</c>) and its message parsers.</summary>
/// <typeparam name="TRequest">Request message type.</typeparam>
/// <typeparam name="TResponse">Response message type.</typeparam>
public sealed class RpcMethod<TRequest, TResponse>
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    /// <summary>Creates a descriptor for <c>/<paramref name="serviceName"/>/<paramref name="methodName"/></c>.</summary>
    /// <param name="serviceName">Fully qualified service name, e.g. <c>farm.v1.Membership</c>.</param>
    /// <param name="methodName">Method name as declared in the .proto file.</param>
    /// <param name="requestParser">Parser of the request message (the generated <c>Parser</c> property).</param>
    /// <param name="responseParser">Parser of the response message.</param>
    public RpcMethod(
        string serviceName,
        string methodName,
        MessageParser<TRequest> requestParser,
        MessageParser<TResponse> responseParser)
    {
        ValidateName(serviceName, nameof(serviceName));
        ValidateName(methodName, nameof(methodName));
        ArgumentNullException.ThrowIfNull(requestParser);
        ArgumentNullException.ThrowIfNull(responseParser);
        ServiceName = serviceName;
        Name = methodName;
        FullName = "/" + serviceName + "/" + methodName;
        RequestParser = requestParser;
        ResponseParser = responseParser;
    }

    /// <summary>Fully qualified service name.</summary>
    public string ServiceName { get; }

    /// <summary>Method name.</summary>
    public string Name { get; }

    /// <summary>The HTTP/2 <c>:path</c> of the method: <c>/package.Service/Method</c>.</summary>
    public string FullName { get; }

    /// <summary>Parser of the request message.</summary>
    public MessageParser<TRequest> RequestParser { get; }

    /// <summary>Parser of the response message.</summary>
    public MessageParser<TResponse> ResponseParser { get; }

    /// <inheritdoc />
    public override string ToString() => FullName;

    private static void ValidateName(string name, string parameterName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name, parameterName);

        // The names become one path segment each; anything URL-special would change the route.
        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_'))
            {
                throw new ArgumentException($"'{name}' is not a valid gRPC service or method name.", parameterName);
            }
        }
    }
}

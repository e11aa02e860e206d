using Farm.Protocol.Security;
using Farm.Protocol.V1;
using Google.Protobuf;

namespace Farm.Daemon.Tests.TestSupport;

/// <summary>Admin requests sealed with the cluster key, as farmctl sends them over TCP.</summary>
internal static class SealedAdmin
{
    /// <summary>A sealed status query as an admin client named <paramref name="sender"/> would send it.</summary>
    public static AdminRequest Request(string key, string method, string sender, long incarnation, ulong seq) => new()
    {
        Sealed = new EnvelopeCodec(key).Seal(method, EnvelopeKind.Request, sender, incarnation, seq,
            TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds(), 0, 0, new StatusQuery().ToByteString()),
    };
}

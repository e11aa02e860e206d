namespace Farm.Protocol.V1;

/// <summary>A reply (or stream item) of <c>farm.v1.Admin</c>: its answer plain, or sealed in an envelope (over TCP).</summary>
/// <typeparam name="TAnswer">The answer it carries.</typeparam>
public interface IAdminReply<TAnswer>
    where TAnswer : class
{
    /// <summary>The answer, plain (over the local socket).</summary>
    TAnswer? Answer { get; set; }

    /// <summary>The answer sealed for the caller, or a sealed refusal (over TCP).</summary>
    Envelope? Sealed { get; set; }
}

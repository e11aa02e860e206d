namespace Farm.Protocol.Security;

/// <summary>What an envelope is; part of the MAC so a request can never pass as a reply or the reverse.</summary>
public enum EnvelopeKind : byte
{
    /// <summary>A call's request.</summary>
    Request = 0,

    /// <summary>A unary call's reply.</summary>
    Reply = 1,

    /// <summary>One message of a server stream.</summary>
    StreamItem = 2,
}

namespace Farm.Rpc.Tests.TestSupport;

/// <summary>How a test server listens and a test client connects.</summary>
public enum Transport
{
    /// <summary>HTTP/2 cleartext with prior knowledge on 127.0.0.1.</summary>
    H2c,

    /// <summary>HTTP/2 over TLS (ALPN h2) on 127.0.0.1, Kestrel also offering HTTP/1.1.</summary>
    Tls,

    /// <summary>HTTP/2 cleartext over a Unix domain socket.</summary>
    Uds,
}

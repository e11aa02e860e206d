namespace Farm.Core.Config;

/// <summary>The kind of a checker (<c>type</c>), which decides its type-specific fields.</summary>
public enum CheckerType
{
    /// <summary><c>tcp</c>: a TCP connect to <c>address</c>:<c>port</c> succeeds.</summary>
    Tcp,

    /// <summary><c>http</c>: a GET of <c>url</c> answers <c>expect_status</c> (and contains <c>expect_body</c>).</summary>
    Http,

    /// <summary><c>process</c>: between <c>min</c> and <c>max</c> processes match <c>process</c> or <c>regex</c>.</summary>
    Process,

    /// <summary><c>custom</c>: a script of the module exits 0.</summary>
    Custom,

    /// <summary><c>interface</c>: a network interface has link.</summary>
    Interface,

    /// <summary><c>ping</c>: an address answers ICMP echo.</summary>
    Ping,
}

namespace Farm.Core.Tests.Config;

/// <summary>The small valid files the config tests start from (each test file adds or replaces lines).</summary>
internal static class ConfigSamples
{
    /// <summary>The smallest valid cluster file: one node, a, whose settings are on lines 5-6.</summary>
    public const string MinimalCluster = """
        cluster:
          name: demo
          key: 0123456789abcdef
          nodes:
            - name: a
              addresses: [198.18.0.1]
        """;

    /// <summary>The smallest valid module file: lines 1 module, 2 name, 3 vips, 4 interface, 5 rules, 6 its one rule.</summary>
    public const string MinimalModule = """
        module:
          name: web
          vips: [198.18.100.1]
          interface: eth0
          rules:
            - ports: 80
        """;

    /// <summary>
    /// Addresses no node or VIP may have, each with the reason the parsers give (YAML-quoted where the text needs it):
    /// both the cluster and the module parser refuse every one.
    /// </summary>
    public static IEnumerable<object[]> NonUnicastAddresses =>
    [
        ["127.0.0.1", "loopback"],
        ["224.0.0.1", "multicast"],
        ["224.0.0.5", "multicast"],
        ["0.0.0.0", "unspecified"],
        ["255.255.255.255", "broadcast"],
        ["240.0.0.1", "reserved"],
        ["\"::1\"", "loopback"],
        ["\"::\"", "unspecified"],
        ["\"ff02::1\"", "multicast"],
        ["\"ff05::1\"", "multicast"],
        ["\"::ffff:198.18.0.1\"", "IPv4-mapped"],
    ];

    /// <summary>Two weighted nodes, each on both LANs pub and priv.</summary>
    public const string TwoNodeCluster = """
        cluster:
          name: demo
          key: 0123456789abcdef
          lans: [pub, priv]
          nodes:
            - name: a
              addresses: [198.18.0.1, 198.19.0.1]
              weight: 100
            - name: b
              addresses: [198.18.0.2, 198.19.0.2]
              weight: 50
        """;
}

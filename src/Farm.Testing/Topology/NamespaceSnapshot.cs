namespace Farm.Testing.Topology;

/// <summary>
/// Everything the data plane may change in a node namespace, as text: nft ruleset, addresses of lo, the VIP interface's
/// promiscuity, unicast list (fdb) and multicast memberships, and its ARP sysctls.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class NamespaceSnapshot
{
    public static async Task<string> TakeAsync(NetworkNamespace ns, string device, CancellationToken cancellationToken)
    {
        var sb = new StringBuilder();
        async Task Add(string title, string file, IReadOnlyList<string> arguments)
        {
            var result = await ns.ExecAsync(file, arguments, cancellationToken: cancellationToken);
            sb.Append("## ").AppendLine(title).AppendLine(result.StandardOutput.Trim());
        }

        await Add("nft", ToolLocator.Require("nft", "nftables"), ["list", "ruleset"]);
        await Add("lo addresses", ToolLocator.Require("ip", "iproute2"), ["address", "show", "dev", "lo"]);
        await Add("link", ToolLocator.Require("ip", "iproute2"), ["-d", "link", "show", "dev", device]);
        await Add("fdb", ToolLocator.Require("bridge", "iproute2"), ["fdb", "show", "dev", device]);
        await Add("multicast", ToolLocator.Require("ip", "iproute2"), ["maddress", "show", "dev", device]);
        await Add("sysctl", ToolLocator.Require("sysctl", "procps"), [$"net.ipv4.conf.{device}.arp_ignore", $"net.ipv4.conf.{device}.arp_announce"]);
        return sb.ToString();
    }
}

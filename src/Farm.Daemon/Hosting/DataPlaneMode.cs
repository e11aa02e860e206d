namespace Farm.Daemon.Hosting;

/// <summary>Whether farmd programs the data plane (<c>--data-plane</c>).</summary>
internal enum DataPlaneMode
{
    /// <summary><c>kernel</c>: nftables filter, VIPs and ARP/NDP for every module (the default; Linux, root).</summary>
    Kernel,

    /// <summary><c>off</c>: membership only; modules count as ready and nothing on the host is touched (tests on loopback).</summary>
    Off,
}

using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Farm.Core.Config;
using Microsoft.Extensions.Logging;

namespace Farm.DataPlane.Addressing;

/// <summary>
/// Binds a module's VIPs on this node: the VIP on <c>lo</c>, the ARP sysctls that keep the kernel from answering or
/// announcing it, and the vMACs admitted through the NIC's MAC filter. Every change is recorded before it is made and
/// undone on <see cref="Stop"/>, or by the next <see cref="Start"/> after a crash.
/// </summary>
/// <remarks>Runs its OS changes in the network namespace of the calling thread.</remarks>
public sealed partial class VipManager
{
    /// <summary>arp_ignore=1: answer ARP only for addresses on the receiving interface (the VIP is on lo, so never for it).</summary>
    public const string ArpIgnoreValue = "1";

    /// <summary>arp_announce=2: never use the VIP as sender address of the kernel's own ARP requests.</summary>
    public const string ArpAnnounceValue = "2";

    private const string Loopback = "lo";
    private readonly ISysctl sysctl;
    private readonly ILinkConfigurator links;
    private readonly VipStateStore store;
    private readonly ILogger logger;
    private readonly Lock gate = new();
    private VipState? state;

    /// <summary>Creates a manager over the real OS (/proc/sys, ip, bridge) keeping its state in <paramref name="stateDirectory"/>.</summary>
    [SupportedOSPlatform("linux")]
    public VipManager(string stateDirectory, ILogger<VipManager> logger)
        : this(new ProcSysctl(), new IpCommandLinkConfigurator(), stateDirectory, logger)
    {
    }

    /// <summary>Creates a manager over any OS boundary (tests use fakes).</summary>
    public VipManager(ISysctl sysctl, ILinkConfigurator links, string stateDirectory, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(sysctl);
        ArgumentNullException.ThrowIfNull(links);
        ArgumentNullException.ThrowIfNull(logger);
        this.sysctl = sysctl;
        this.links = links;
        store = new VipStateStore(stateDirectory);
        this.logger = logger;
    }

    /// <summary>True between <see cref="Start"/> and <see cref="Stop"/>.</summary>
    public bool IsStarted
    {
        get
        {
            lock (gate)
            {
                return state is not null;
            }
        }
    }

    /// <summary>Undoes what a crashed run left behind for <paramref name="module"/>, then binds its VIPs.</summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    public void Start(ModuleConfig module)
    {
        ArgumentNullException.ThrowIfNull(module);
        lock (gate)
        {
            if (state is not null)
            {
                throw new InvalidOperationException($"VIPs of module {state.Module} are already bound.");
            }

            if (RecoverLeftovers(module.Name))
            {
                Log.Recovered(logger, module.Name);
            }

            var current = new VipState { Module = module.Name, Interface = module.Interface };
            state = current;
            try
            {
                Bind(module, current);
            }
            catch
            {
                // Half-bound is worse than unbound: undo what was done; the state file still covers a crash here.
                Undo(current);
                store.Delete(module.Name);
                state = null;
                throw;
            }
        }

        Log.Started(logger, module.Name, module.Interface, string.Join(", ", module.Vips), module.VmacMode);
    }

    /// <summary>Restores everything <see cref="Start"/> changed; does nothing when not started.</summary>
    public void Stop()
    {
        lock (gate)
        {
            if (state is null)
            {
                return;
            }

            Undo(state);
            store.Delete(state.Module);
            Log.Stopped(logger, state.Module);
            state = null;
        }
    }

    /// <summary>
    /// Undoes a crashed run's changes recorded for <paramref name="module"/>; returns true when there were any (the caller
    /// reports them: <see cref="Start"/> itself, or the data plane's sweep, DataPlaneHost's event 409).
    /// </summary>
    public bool RecoverLeftovers(string module)
    {
        var leftover = store.Load(module);
        if (leftover is null)
        {
            return false;
        }

        Undo(leftover);
        store.Delete(module);
        return true;
    }

    private void Bind(ModuleConfig module, VipState current)
    {
        foreach (var (name, value) in new[] { ("arp_ignore", ArpIgnoreValue), ("arp_announce", ArpAnnounceValue) })
        {
            string path = $"net/ipv4/conf/{module.Interface}/{name}";
            current.Sysctls[path] = sysctl.Read(path);
            store.Save(current);
            sysctl.Write(path, value);
        }

        foreach (var vip in module.Vips)
        {
            if (links.HasAddress(Loopback, vip))
            {
                // Someone else's (or an operator's) address: use it, but never remove it.
                continue;
            }

            int prefix = vip.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            current.LoopbackAddresses.Add(Cidr(vip, prefix));
            store.Save(current);
            links.AddAddress(Loopback, vip, prefix);
        }

        if (module.VmacMode == VmacMode.Promiscuous)
        {
            if (!links.IsPromiscuous(module.Interface))
            {
                current.Promiscuous = true;
                store.Save(current);
                links.SetPromiscuous(module.Interface, true);
            }

            return;
        }

        foreach (var mac in module.Vips.Select(VirtualMac.For).Distinct())
        {
            if (links.HasUnicastAddress(module.Interface, mac))
            {
                continue;
            }

            current.UnicastAddresses.Add(VirtualMac.Format(mac));
            store.Save(current);
            links.AddUnicastAddress(module.Interface, mac);
        }
    }

    /// <summary>Undoes in reverse order; each step is tried even when an earlier one failed, then the first failure is thrown.</summary>
    private void Undo(VipState recorded)
    {
        var failures = new List<Exception>();
        void Try(Action action)
        {
            try
            {
                action();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or TimeoutException)
            {
                failures.Add(e);
                Log.UndoFailed(logger, recorded.Module, e);
            }
        }

        foreach (string mac in Enumerable.Reverse(recorded.UnicastAddresses))
        {
            Try(() => links.RemoveUnicastAddress(recorded.Interface, PhysicalAddress.Parse(mac)));
        }

        if (recorded.Promiscuous)
        {
            Try(() => links.SetPromiscuous(recorded.Interface, false));
        }

        foreach (string cidr in Enumerable.Reverse(recorded.LoopbackAddresses))
        {
            string[] parts = cidr.Split('/');
            Try(() => links.RemoveAddress(Loopback, IPAddress.Parse(parts[0]), int.Parse(parts[1], CultureInfo.InvariantCulture)));
        }

        foreach (var (path, value) in recorded.Sysctls)
        {
            Try(() => sysctl.Write(path, value));
        }

        if (failures.Count > 0)
        {
            throw new AggregateException($"Could not undo every change of module {recorded.Module}.", failures);
        }
    }

    private static string Cidr(IPAddress address, int prefix) => string.Create(CultureInfo.InvariantCulture, $"{address}/{prefix}");

    private static partial class Log
    {
        [LoggerMessage(2011, LogLevel.Information, "Bound VIPs of module {Module} on {Interface}: {Vips} (vMAC admission: {VmacMode}).")]
        public static partial void Started(ILogger logger, string module, string @interface, string vips, VmacMode vmacMode);

        [LoggerMessage(2012, LogLevel.Information, "Unbound VIPs of module {Module}; sysctls, addresses and MAC filter restored.")]
        public static partial void Stopped(ILogger logger, string module);

        [LoggerMessage(2013, LogLevel.Warning, "Module {Module}: undid the VIP changes of an earlier run that did not stop cleanly.")]
        public static partial void Recovered(ILogger logger, string module);

        [LoggerMessage(2014, LogLevel.Error, "Module {Module}: could not undo a VIP change.")]
        public static partial void UndoFailed(ILogger logger, string module, Exception exception);
    }
}

namespace Farm.DataPlane.Tests.TestSupport;

/// <summary>An in-memory <see cref="ILinkConfigurator"/>: addresses, unicast lists and promiscuous flags per device.</summary>
internal sealed class FakeLinkConfigurator : ILinkConfigurator
{
    public HashSet<(string Device, IPAddress Address, int Prefix)> Addresses { get; } = [];

    public HashSet<(string Device, PhysicalAddress Mac)> Unicast { get; } = [];

    public HashSet<string> Promiscuous { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, the next AddUnicastAddress throws (to test undo on a half-done start).</summary>
    public bool FailUnicast { get; set; }

    public bool HasAddress(string device, IPAddress address) => Addresses.Any(a => a.Device == device && a.Address.Equals(address));

    public void AddAddress(string device, IPAddress address, int prefixLength)
    {
        if (!Addresses.Add((device, address, prefixLength)))
        {
            throw new IOException("RTNETLINK answers: File exists");
        }
    }

    public void RemoveAddress(string device, IPAddress address, int prefixLength) => Addresses.Remove((device, address, prefixLength));

    public bool HasUnicastAddress(string device, PhysicalAddress mac) => Unicast.Contains((device, mac));

    public void AddUnicastAddress(string device, PhysicalAddress mac)
    {
        if (FailUnicast)
        {
            throw new IOException("RTNETLINK answers: Operation not supported");
        }

        Unicast.Add((device, mac));
    }

    public void RemoveUnicastAddress(string device, PhysicalAddress mac) => Unicast.Remove((device, mac));

    public bool IsPromiscuous(string device) => Promiscuous.Contains(device);

    public void SetPromiscuous(string device, bool enabled)
    {
        if (enabled)
        {
            Promiscuous.Add(device);
        }
        else
        {
            Promiscuous.Remove(device);
        }
    }
}

using System.Net;
using System.Net.NetworkInformation;

namespace Farm.DataPlane.Addressing;

/// <summary>The link and address changes the VIP manager makes, in the network namespace of the calling thread.</summary>
public interface ILinkConfigurator
{
    /// <summary>True when <paramref name="device"/> holds <paramref name="address"/> (any prefix length).</summary>
    bool HasAddress(string device, IPAddress address);

    /// <summary>Adds an address to a device.</summary>
    void AddAddress(string device, IPAddress address, int prefixLength);

    /// <summary>Removes an address; absent addresses are ignored.</summary>
    void RemoveAddress(string device, IPAddress address, int prefixLength);

    /// <summary>True when <paramref name="mac"/> is in the device's unicast address list (<c>bridge fdb ... self</c>).</summary>
    bool HasUnicastAddress(string device, PhysicalAddress mac);

    /// <summary>Adds <paramref name="mac"/> to the device's unicast address list, so the NIC's MAC filter passes frames to it.</summary>
    void AddUnicastAddress(string device, PhysicalAddress mac);

    /// <summary>Removes <paramref name="mac"/> from the device's unicast address list; absent entries are ignored.</summary>
    void RemoveUnicastAddress(string device, PhysicalAddress mac);

    /// <summary>True when promiscuous mode was requested on the device by a user (not implied by a packet socket).</summary>
    bool IsPromiscuous(string device);

    /// <summary>Requests or withdraws promiscuous mode.</summary>
    void SetPromiscuous(string device, bool enabled);
}

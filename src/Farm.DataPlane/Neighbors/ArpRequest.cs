using System.Net;
using System.Net.NetworkInformation;

namespace Farm.DataPlane.Neighbors;

/// <summary>A parsed ARP request (IPv4 over Ethernet): who asks, from which address, for which address.</summary>
internal readonly record struct ArpRequest(PhysicalAddress SenderMac, IPAddress SenderAddress, IPAddress TargetAddress);

namespace Farm.Testing.Topology;

/// <summary>One frame of a <see cref="BridgeCapture"/>: its Ethernet source, EtherType and the bytes after the link header.</summary>
/// <param name="Interface">The bridge-side interface it was seen on (index in the bridge namespace; 0 when the capture format has none).</param>
/// <param name="Source">The Ethernet source address.</param>
/// <param name="EtherType">0x0806 ARP, 0x0800 IPv4, 0x86dd IPv6, ...</param>
/// <param name="Payload">The network-layer bytes (ARP packet, IP packet), possibly cut at the snap length.</param>
public sealed record CapturedFrame(int Interface, PhysicalAddress Source, ushort EtherType, byte[] Payload);

namespace Farm.Bench.Neighbor;

/// <summary>What a captured or received frame is, seen from the benchmark client.</summary>
internal enum ProbeKind
{
    /// <summary>Not one of ours.</summary>
    None,

    /// <summary>An ARP request for the IPv4 VIP from a probe address.</summary>
    ArpRequest,

    /// <summary>An ARP reply for the IPv4 VIP to a probe address.</summary>
    ArpReply,

    /// <summary>A neighbor solicitation for the IPv6 VIP from a probe address.</summary>
    Solicitation,

    /// <summary>A neighbor advertisement for the IPv6 VIP to a probe address.</summary>
    Advertisement,
}

/// <summary>
/// The benchmark's own frames (built here, independently of the responder's code): ARP requests and neighbor
/// solicitations for the VIPs, each from a probe address that encodes its number, so a reply names the request it
/// answers (an ARP reply goes to the request's sender address, an advertisement to the solicitation's source).
/// </summary>
/// <remarks>
/// Probe <c>n</c> (1 to 65535) asks from 198.19.(n / 256).(n % 256) or 2001:db8:ffff::n: test space that no interface
/// holds, so no kernel on the LAN acts on the replies.
/// </remarks>
internal static class ProbeFrames
{
    /// <summary>Largest probe number.</summary>
    public const int MaxId = 65535;

    /// <summary>Length of the ARP request.</summary>
    public const int ArpRequestLength = 42;

    /// <summary>Length of the neighbor solicitation (with the source link-layer option).</summary>
    public const int SolicitationLength = 14 + 40 + 32;

    private const ushort EtherTypeArp = 0x0806;
    private const ushort EtherTypeIPv6 = 0x86dd;
    private const byte Icmpv6 = 58;

    /// <summary>The BPF filter of the frames <see cref="Classify"/> may recognise (for tcpdump).</summary>
    public const string CaptureFilter = "arp or (icmp6 and ip6[6] == 58 and (ip6[40] == 135 or ip6[40] == 136))";

    /// <summary>Writes ARP request <paramref name="id"/> for <paramref name="vip"/>, broadcast from <paramref name="clientMac"/>.</summary>
    public static int WriteArpRequest(Span<byte> frame, PhysicalAddress clientMac, int id, IPAddress vip)
    {
        var f = frame[..ArpRequestLength];
        f.Clear();
        byte[] mac = clientMac.GetAddressBytes();
        f[..6].Fill(0xff);
        mac.CopyTo(f[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(f[12..], EtherTypeArp);
        var arp = f[14..];
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1);          // hardware: Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(arp[2..], 0x0800); // protocol: IPv4
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], 1);      // request
        mac.CopyTo(arp[8..]);
        ProbeAddress4(id).TryWriteBytes(arp[14..], out _);
        vip.TryWriteBytes(arp[24..], out _);
        return ArpRequestLength;
    }

    /// <summary>
    /// Writes neighbor solicitation <paramref name="id"/> for <paramref name="vip"/> to its solicited-node group, with
    /// <paramref name="clientMac"/> as Ethernet source and source link-layer option.
    /// </summary>
    public static int WriteSolicitation(Span<byte> frame, PhysicalAddress clientMac, int id, IPAddress vip)
    {
        var f = frame[..SolicitationLength];
        f.Clear();
        byte[] mac = clientMac.GetAddressBytes();
        byte[] target = vip.GetAddressBytes();
        byte[] group = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, target[13], target[14], target[15]];
        byte[] groupMac = [0x33, 0x33, group[12], group[13], group[14], group[15]];
        groupMac.CopyTo(f);
        mac.CopyTo(f[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(f[12..], EtherTypeIPv6);
        var ip = f[14..];
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], 32);
        ip[6] = Icmpv6;
        ip[7] = 255;
        ProbeAddress6(id).TryWriteBytes(ip[8..], out _);
        group.CopyTo(ip[24..]);
        var icmp = ip[40..];
        icmp[0] = 135;
        target.CopyTo(icmp[8..]);
        icmp[24] = 1; // source link-layer address option, 8 bytes
        icmp[25] = 1;
        mac.CopyTo(icmp[26..]);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], Checksum(ip.Slice(8, 16), ip.Slice(24, 16), icmp[..32]));
        return SolicitationLength;
    }

    /// <summary>
    /// Recognises a probe or a reply to one for <paramref name="vip4"/> / <paramref name="vip6"/>; <paramref name="id"/>
    /// is the probe's number, <paramref name="linkLayer"/> the address a reply resolves the VIP to.
    /// </summary>
    public static ProbeKind Classify(ReadOnlySpan<byte> frame, IPAddress vip4, IPAddress vip6, out int id, out PhysicalAddress? linkLayer)
    {
        id = 0;
        linkLayer = null;
        if (frame.Length < 14)
        {
            return ProbeKind.None;
        }

        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        if (etherType == EtherTypeArp && frame.Length >= ArpRequestLength)
        {
            var arp = frame[14..];
            ushort operation = BinaryPrimitives.ReadUInt16BigEndian(arp[6..]);
            var sender = new IPAddress(arp.Slice(14, 4));
            var target = new IPAddress(arp.Slice(24, 4));
            if (operation == 1 && target.Equals(vip4) && TryProbeId4(sender, out id))
            {
                return ProbeKind.ArpRequest;
            }

            if (operation == 2 && sender.Equals(vip4) && TryProbeId4(target, out id))
            {
                linkLayer = new PhysicalAddress(arp.Slice(8, 6).ToArray());
                return ProbeKind.ArpReply;
            }

            return ProbeKind.None;
        }

        if (etherType != EtherTypeIPv6 || frame.Length < 14 + 40 + 24)
        {
            return ProbeKind.None;
        }

        var ip = frame[14..];
        if (ip[6] != Icmpv6)
        {
            return ProbeKind.None;
        }

        var icmp = ip[40..];
        var nsTarget = new IPAddress(icmp.Slice(8, 16));
        if (!nsTarget.Equals(vip6))
        {
            return ProbeKind.None;
        }

        if (icmp[0] == 135 && TryProbeId6(new IPAddress(ip.Slice(8, 16)), out id))
        {
            return ProbeKind.Solicitation;
        }

        if (icmp[0] == 136 && TryProbeId6(new IPAddress(ip.Slice(24, 16)), out id))
        {
            // The target link-layer option right after the fixed part, as the responder writes it.
            if (icmp.Length >= 32 && icmp[24] == 2 && icmp[25] == 1)
            {
                linkLayer = new PhysicalAddress(icmp.Slice(26, 6).ToArray());
            }

            return ProbeKind.Advertisement;
        }

        return ProbeKind.None;
    }

    /// <summary>The IPv4 sender address of probe <paramref name="id"/>.</summary>
    public static IPAddress ProbeAddress4(int id)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(id, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(id, MaxId);
        return new IPAddress([198, 19, (byte)(id >> 8), (byte)id]);
    }

    /// <summary>The IPv6 source address of probe <paramref name="id"/>.</summary>
    public static IPAddress ProbeAddress6(int id)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(id, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(id, MaxId);
        byte[] bytes = [0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, (byte)(id >> 8), (byte)id];
        return new IPAddress(bytes);
    }

    private static bool TryProbeId4(IPAddress address, out int id)
    {
        Span<byte> b = stackalloc byte[4];
        address.TryWriteBytes(b, out _);
        id = (b[2] << 8) | b[3];
        return b[0] == 198 && b[1] == 19 && id > 0;
    }

    private static bool TryProbeId6(IPAddress address, out int id)
    {
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out _);
        id = (b[14] << 8) | b[15];
        return b[..14].SequenceEqual((ReadOnlySpan<byte>)[0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]) && id > 0;
    }

    /// <summary>The ICMPv6 checksum (RFC 1071 sum over the pseudo-header and the message).</summary>
    private static ushort Checksum(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, ReadOnlySpan<byte> message)
    {
        uint sum = (uint)message.Length + Icmpv6 + Words(source) + Words(destination) + Words(message);
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)~sum;
    }

    private static uint Words(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (int i = 0; i < data.Length; i += 2)
        {
            sum += (uint)(data[i] << 8 | (i + 1 < data.Length ? data[i + 1] : 0));
        }

        return sum;
    }
}

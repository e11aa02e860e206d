namespace Farm.Bench.Neighbor;

/// <summary>
/// An AF_PACKET raw socket on one interface of the namespace it was created in: sends whole Ethernet frames and
/// receives every frame of the interface. The client's side of the benchmark; independent of the code under test.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class PacketSocket : IDisposable
{
    /// <summary>ETH_P_ALL: every protocol.</summary>
    private const ushort EthernetProtocolAll = 0x0003;

    private readonly Socket socket;

    private PacketSocket(Socket socket) => this.socket = socket;

    /// <summary>Opens a socket bound to interface <paramref name="interfaceIndex"/>; call on a thread inside the namespace.</summary>
    public static PacketSocket Open(int interfaceIndex)
    {
        // The protocol argument of socket(2) is in network byte order for AF_PACKET.
        var socket = new Socket(AddressFamily.Packet, SocketType.Raw, (ProtocolType)BinaryPrimitives.ReverseEndianness(EthernetProtocolAll));
        try
        {
            socket.Bind(new LinkLayerEndPoint(interfaceIndex, EthernetProtocolAll));
            return new PacketSocket(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends one frame on the bound interface.</summary>
    public void Send(ReadOnlySpan<byte> frame) => socket.Send(frame);

    /// <summary>Receives one frame into <paramref name="buffer"/>: its length, or 0 when none came within <paramref name="timeout"/>.</summary>
    public int Receive(Span<byte> buffer, TimeSpan timeout)
    {
        if (!socket.Poll(timeout, SelectMode.SelectRead))
        {
            return 0;
        }

        return socket.Receive(buffer);
    }

    /// <inheritdoc />
    public void Dispose() => socket.Dispose();

    /// <summary>struct sockaddr_ll with the family, protocol and interface index set.</summary>
    private sealed class LinkLayerEndPoint(int interfaceIndex, ushort protocol) : EndPoint
    {
        // sizeof(struct sockaddr_ll): family 2, protocol 2, ifindex 4, hatype 2, pkttype 1, halen 1, addr 8.
        private const int Size = 20;

        public override AddressFamily AddressFamily => AddressFamily.Packet;

        public override SocketAddress Serialize()
        {
            var address = new SocketAddress(AddressFamily.Packet, Size);
            var bytes = address.Buffer.Span;
            BinaryPrimitives.WriteUInt16BigEndian(bytes[2..], protocol);
            BitConverter.TryWriteBytes(bytes[4..], interfaceIndex); // host byte order
            return address;
        }

        public override EndPoint Create(SocketAddress socketAddress) => new LinkLayerEndPoint(interfaceIndex, protocol);
    }
}

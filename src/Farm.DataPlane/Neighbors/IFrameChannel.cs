namespace Farm.DataPlane.Neighbors;

/// <summary>Raw Ethernet frames in and out of one interface; the boundary the responder is tested through.</summary>
internal interface IFrameChannel : IDisposable
{
    /// <summary>Waits for a frame and copies it into <paramref name="buffer"/>: its length, 0 on a read timeout, -1 after <see cref="Wake"/>.</summary>
    int Receive(Span<byte> buffer);

    /// <summary>Sends one frame; safe from any thread.</summary>
    void Send(ReadOnlySpan<byte> frame);

    /// <summary>
    /// Makes <see cref="Receive"/> return -1: at once when it is not blocked, else when its current wait ends (the pcap
    /// channel: within <see cref="PcapFrameChannel.WakeLatency"/>). Safe from any thread.
    /// </summary>
    void Wake();
}

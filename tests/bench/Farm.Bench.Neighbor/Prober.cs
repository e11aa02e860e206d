namespace Farm.Bench.Neighbor;

/// <summary>One probe as the client saw it: its number and family, and the round trip its own socket measured (null: no reply in time).</summary>
internal sealed record ProbeOutcome(int Id, bool IPv6, TimeSpan? RoundTrip);

/// <summary>
/// Sends probes one at a time from the client namespace, alternating ARP request and neighbor solicitation, and waits
/// for each one's reply (or a timeout) before a pause and the next probe, so the responder never has more than one
/// question queued and the latency holds no queueing.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class Prober(PacketSocket socket, PhysicalAddress clientMac, IPAddress vip4, IPAddress vip6, TimeProvider time)
{
    private readonly byte[] frame = new byte[ProbeFrames.SolicitationLength];
    private readonly byte[] received = new byte[2048];

    /// <summary>
    /// Sends probes <paramref name="firstId"/> .. <paramref name="firstId"/> + <paramref name="perFamily"/> - 1 of each
    /// family. Runs on the calling thread (it blocks); the pause is spent receiving, so it needs no sleep.
    /// </summary>
    public List<ProbeOutcome> Run(int firstId, int perFamily, TimeSpan pause, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstId + perFamily - 1, ProbeFrames.MaxId);
        var outcomes = new List<ProbeOutcome>(2 * perFamily);
        for (int k = 0; k < 2 * perFamily; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int id = firstId + (k / 2);
            bool v6 = k % 2 == 1;
            int length = v6
                ? ProbeFrames.WriteSolicitation(frame, clientMac, id, vip6)
                : ProbeFrames.WriteArpRequest(frame, clientMac, id, vip4);
            long sent = time.GetTimestamp();
            socket.Send(frame.AsSpan(0, length));
            outcomes.Add(new ProbeOutcome(id, v6, AwaitReply(id, v6 ? ProbeKind.Advertisement : ProbeKind.ArpReply, sent, timeout)));
            Drain(pause);
        }

        return outcomes;
    }

    private TimeSpan? AwaitReply(int id, ProbeKind kind, long sent, TimeSpan timeout)
    {
        while (true)
        {
            var left = timeout - time.GetElapsedTime(sent);
            if (left <= TimeSpan.Zero)
            {
                return null;
            }

            int length = socket.Receive(received, left);
            if (length > 0 && ProbeFrames.Classify(received.AsSpan(0, length), vip4, vip6, out int replyId, out _) == kind && replyId == id)
            {
                return time.GetElapsedTime(sent);
            }
        }
    }

    /// <summary>Receives and drops whatever arrives for <paramref name="pause"/>.</summary>
    private void Drain(TimeSpan pause)
    {
        long start = time.GetTimestamp();
        for (var left = pause; left > TimeSpan.Zero; left = pause - time.GetElapsedTime(start))
        {
            socket.Receive(received, left);
        }
    }
}

using System.Net.NetworkInformation;

namespace Farm.Daemon.Heartbeat;

/// <summary>ICMP echo through <see cref="Ping"/> (a raw socket: farmd runs as root).</summary>
internal sealed class IcmpWitnessPing : IWitnessPing
{
    private static readonly byte[] Payload = "farm-witness"u8.ToArray();
    private readonly Ping ping = new();

    public bool Probe(IPAddress address, TimeSpan timeout)
    {
        int milliseconds = Math.Max(1, (int)timeout.TotalMilliseconds);
        try
        {
            return ping.Send(address, milliseconds, Payload).Status == IPStatus.Success;
        }
        catch (PingException)
        {
            // No route, no permission for a raw socket, ...: the witness is not reached; the prober logs the streak.
            return false;
        }
    }

    public void Dispose() => ping.Dispose();
}

namespace Farm.Testing.Network;

/// <summary>TCP ports for farmd processes that tests run on loopback addresses (127.0.0.1, 127.0.0.2, ...).</summary>
public static class LoopbackPorts
{
    /// <summary>
    /// A TCP port free right now on each of 127.0.0.1 .. 127.0.0.<paramref name="addresses"/>, together with the
    /// <paramref name="consecutive"/> - 1 ports after it (e.g. gRPC and console ports).
    /// </summary>
    /// <exception cref="InvalidOperationException">No such port was found in 20 tries.</exception>
    public static int FreeOn(int addresses, int consecutive = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(addresses, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(consecutive, 1);
        for (int attempt = 0; attempt < 20; attempt++)
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            if (Enumerable.Range(1, addresses).All(i => Enumerable.Range(port, consecutive)
                .All(p => IsFree(IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"127.0.0.{i}")), p))))
            {
                return port;
            }
        }

        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"No TCP port is free on 127.0.0.1-{addresses}."));
    }

    private static bool IsFree(IPAddress address, int port)
    {
        try
        {
            using var listener = new TcpListener(address, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

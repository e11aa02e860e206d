namespace Farm.Testing.Topology;

/// <summary>Asks the demo-web example module "which node are you" (GET /node) from a chosen client source address.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class WebProbe
{
    /// <summary>The node name the farm answered with, or null when nobody answered within <paramref name="timeout"/>.</summary>
    public static async Task<string?> AskAsync(NetworkNamespace client, IPAddress source, IPEndPoint vip, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // The socket is born in the client namespace (and bound to the client's address); I/O may run anywhere.
        using var socket = await client.RunAsync(() =>
        {
            var s = new Socket(source.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(source, 0));
            return s;
        });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(vip, cts.Token);
            await socket.SendAsync("GET /node HTTP/1.0\r\nConnection: close\r\n\r\n"u8.ToArray(), cts.Token);
            var response = new StringBuilder();
            var buffer = new byte[1024];
            int read;
            while ((read = await socket.ReceiveAsync(buffer, cts.Token)) > 0)
            {
                response.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            string text = response.ToString();
            int body = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            return text.StartsWith("HTTP/1.", StringComparison.Ordinal) && text.Contains(" 200 ", StringComparison.Ordinal) && body >= 0
                ? text[(body + 4)..].Trim()
                : null;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            return null;
        }
    }
}

using System.Net.Sockets;
using Farm.Core.Config;

namespace Farm.Modules.Checkers;

/// <summary><c>type: http</c>: up when a GET of the URL answers the expected status and, if set, a body containing the expected text.</summary>
internal sealed class HttpChecker : IChecker, IDisposable
{
    // Health pages are small; reading more would only cost memory on a misbehaving application.
    private const int MaxBody = 64 * 1024;

    private readonly HttpCheckerConfig config;
    private readonly HttpClient client;

    public HttpChecker(HttpCheckerConfig config)
    {
        this.config = config;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false, // a health check targets the local application, never a proxy from the environment
            AllowAutoRedirect = false, // the expected status is compared as the application answers it
            PooledConnectionLifetime = TimeSpan.Zero,
            UseCookies = false,
        };
        client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task<CheckResult> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.GetAsync(config.Url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            int status = (int)response.StatusCode;
            if (status != config.ExpectStatus)
            {
                return CheckResult.Fail($"GET {config.Url} answered {status}, expected {config.ExpectStatus}");
            }

            if (config.ExpectBody is null)
            {
                return CheckResult.Pass($"GET {config.Url} answered {status}");
            }

            string body = await ReadBodyAsync(response, cancellationToken);
            return body.Contains(config.ExpectBody, StringComparison.Ordinal)
                ? CheckResult.Pass($"GET {config.Url} answered {status} with '{config.ExpectBody}'")
                : CheckResult.Fail($"GET {config.Url} answered {status} without '{config.ExpectBody}' in the body");
        }
        catch (HttpRequestException ex)
        {
            string why = ex.InnerException is SocketException se ? TcpChecker.Describe(se.SocketErrorCode, se.Message) : ex.Message;
            return CheckResult.Fail($"GET {config.Url}: {why}");
        }
    }

    public void Dispose() => client.Dispose();

    private static async Task<string> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxBody];
        int total = 0;
        int read;
        while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
        {
            total += read;
        }

        return System.Text.Encoding.UTF8.GetString(buffer, 0, total);
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Farm.WebConsole;

/// <summary>
/// The console's endpoints: <c>/</c> (the page), <c>/console/ASSET</c> (its script and style sheet, no other origin)
/// and <c>/console/events</c> (server-sent events: one <c>status</c> event per change of the feed). With a users file
/// (<see cref="WebConsoleLogin"/>) the page, the feed and <c>/console/session</c> need a login, and operators may act
/// (<see cref="ConsoleActionEndpoints"/>); without one the console is read-only and open.
/// </summary>
public static class WebConsoleEndpoints
{
    /// <summary>Strict: the page loads only its own files and talks only to its own origin.</summary>
    public const string ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Most event streams open at once: each reads the node's status ten times a second; the port is open to anyone.</summary>
    public const int MaxEventStreams = 32;

    /// <summary>
    /// Maps the console (its login and the actions too when <see cref="WebConsoleLogin.AddWebConsoleLogin"/> was given a
    /// users file); returns the endpoints' builders so the host can add its own conventions to each.
    /// </summary>
    public static IReadOnlyList<IEndpointConventionBuilder> MapWebConsole(this IEndpointRouteBuilder routes, IConsoleFeed feed, IConsoleActions actions)
    {
        ArgumentNullException.ThrowIfNull(routes);
        ArgumentNullException.ThrowIfNull(feed);
        ArgumentNullException.ThrowIfNull(actions);
        var views = Views(routes, feed);
        var assets = routes.MapGet("/console/{name}", (HttpContext context, string name) => Asset(context, name)); // the login page needs them
        if (!WebConsoleLogin.IsEnabled(routes.ServiceProvider))
        {
            return [.. views, assets, routes.MapGet("/console/session", WebConsoleLogin.OpenSession)];
        }

        foreach (var view in views)
        {
            view.RequireAuthorization(WebConsoleLogin.ViewerPolicy);
        }

        return [.. views, .. WebConsoleLogin.MapLogin(routes), .. ConsoleActionEndpoints.Map(routes, actions), assets];
    }

    /// <summary>Maps the page and its feed (they need a login when there is one).</summary>
    private static List<RouteHandlerBuilder> Views(IEndpointRouteBuilder routes, IConsoleFeed feed)
    {
        var streams = new EventStreams(MaxEventStreams);
        return
        [
            routes.MapGet("/", (HttpContext context) => Asset(context, "index.html")),
            routes.MapGet("/console/events", (HttpContext context, CancellationToken cancellationToken) =>
            {
                if (!streams.TryOpen())
                {
                    return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
                }

                Secure(context.Response);
                var documents = feed.WatchAsync(cancellationToken);
                if (WebConsoleLogin.SessionCheck(context) is { } stillValid)
                {
                    documents = While(documents, stillValid);
                }

                return TypedResults.ServerSentEvents(streams.Track(documents), eventType: "status");
            }),
        ];
    }

    private static IResult Asset(HttpContext context, string name)
    {
        if (ConsoleAssets.Find(name) is not { } file)
        {
            return Results.NotFound();
        }

        Secure(context.Response);
        context.Response.Headers.CacheControl = "no-cache";
        return Results.Bytes(file.Content, file.ContentType);
    }

    internal static void Secure(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
    }

    /// <summary>
    /// The documents while the session that opened the stream is still good (user in the file with that role, session
    /// not expired): a removed user does not keep watching. The page then reconnects, with its refreshed cookie, or is
    /// sent to the login form.
    /// </summary>
    private static async IAsyncEnumerable<string> While(IAsyncEnumerable<string> documents, Func<bool> stillValid)
    {
        await foreach (string document in documents)
        {
            if (!stillValid())
            {
                yield break;
            }

            yield return document;
        }
    }

    /// <summary>Counts the open event streams: one more on open, one less when its sequence ends (the client left).</summary>
    private sealed class EventStreams(int limit)
    {
        private int open;

        public bool TryOpen()
        {
            if (Interlocked.Increment(ref open) <= limit)
            {
                return true;
            }

            Interlocked.Decrement(ref open);
            return false;
        }

        public async IAsyncEnumerable<string> Track(IAsyncEnumerable<string> documents)
        {
            try
            {
                await foreach (string document in documents)
                {
                    yield return document;
                }
            }
            finally
            {
                Interlocked.Decrement(ref open);
            }
        }
    }
}

namespace Farm.WebConsole;

/// <summary>What the console shows, as JSON documents (see <c>Assets/console.js</c> for the shape).</summary>
public interface IConsoleFeed
{
    /// <summary>The state now, then again on every change (and now and then to refresh ages) until cancelled.</summary>
    IAsyncEnumerable<string> WatchAsync(CancellationToken cancellationToken);
}

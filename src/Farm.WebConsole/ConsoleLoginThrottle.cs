using System.Threading.RateLimiting;

namespace Farm.WebConsole;

/// <summary>
/// Counts failed logins per client address and per user name in fixed one-minute windows; once either has used up its
/// failures, logins from that address or for that user are refused (even with the right password) until the window ends.
/// Only failures count: a user who logs in right away is never slowed down.
/// </summary>
internal sealed class ConsoleLoginThrottle : IDisposable
{
    /// <summary>Failed logins allowed per user name in one window.</summary>
    public const int FailuresPerUser = 5;

    /// <summary>Failed logins allowed per client address in one window.</summary>
    public const int FailuresPerAddress = 20;

    /// <summary>The window.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly PartitionedRateLimiter<string> limiter = PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetFixedWindowLimiter(key, k => new FixedWindowRateLimiterOptions
        {
            PermitLimit = k.StartsWith("user:", StringComparison.Ordinal) ? FailuresPerUser : FailuresPerAddress,
            Window = Window,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// <summary>Whether a login from <paramref name="address"/> for <paramref name="user"/> may be tried now.</summary>
    public bool MayTry(string address, string user)
    {
        using var byAddress = limiter.AttemptAcquire(AddressKey(address), 0);
        using var byUser = limiter.AttemptAcquire(UserKey(user), 0);
        return byAddress.IsAcquired && byUser.IsAcquired;
    }

    /// <summary>Counts one failed login against the address and the user name.</summary>
    public void Failed(string address, string user)
    {
        limiter.AttemptAcquire(AddressKey(address)).Dispose();
        limiter.AttemptAcquire(UserKey(user)).Dispose();
    }

    public void Dispose() => limiter.Dispose();

    private static string AddressKey(string address) => "address:" + address;

    // Bounded: names longer than any valid one all share one partition.
    private static string UserKey(string user) => "user:" + (user.Length > Farm.Protocol.Security.ConsoleUserFile.MaxNameLength ? "(too long)" : user);
}

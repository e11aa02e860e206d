using System.Net.NetworkInformation;
using Farm.Core.Config;

namespace Farm.Modules.Checkers;

/// <summary><c>type: ping</c>: up while the address answers ICMP echo; with the default gateway as address it is the natural split-brain witness.</summary>
internal sealed class PingChecker(PingCheckerConfig config) : IChecker
{
    public async Task<CheckResult> CheckAsync(CancellationToken cancellationToken)
    {
        using var ping = new Ping();
        try
        {
            // An address literal is sent to directly; a host name is resolved first.
            var reply = await ping.SendPingAsync(config.Address, config.Timeout, null, null, cancellationToken);
            return reply.Status == IPStatus.Success
                ? CheckResult.Pass($"{config.Address} answered in {reply.RoundtripTime} ms")
                : CheckResult.Fail($"{config.Address}: {reply.Status}");
        }
        catch (PingException ex)
        {
            return CheckResult.Fail($"{config.Address}: {ex.InnerException?.Message ?? ex.Message}");
        }
    }
}

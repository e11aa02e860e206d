using Farm.Core.Config;

namespace Farm.Modules.Checkers;

/// <summary><c>type: interface</c>: up while the interface has carrier and is operationally up (sysfs <c>operstate</c> and <c>carrier</c>).</summary>
/// <param name="config">The checker.</param>
/// <param name="sysNetRoot">The sysfs net class directory; tests pass a fake tree.</param>
internal sealed class InterfaceChecker(InterfaceCheckerConfig config, string sysNetRoot = "/sys/class/net") : IChecker
{
    public async Task<CheckResult> CheckAsync(CancellationToken cancellationToken)
    {
        string dir = Path.Combine(sysNetRoot, config.Interface);
        if (!Directory.Exists(dir))
        {
            return CheckResult.Fail($"interface {config.Interface} does not exist");
        }

        string operstate = await ReadAsync(Path.Combine(dir, "operstate"), cancellationToken) ?? "unknown";
        // Reading carrier fails (EINVAL) while the interface is administratively down.
        string? carrier = await ReadAsync(Path.Combine(dir, "carrier"), cancellationToken);
        string detail = $"{config.Interface}: operstate {operstate}, carrier {carrier ?? "unreadable (admin down)"}";

        // 'unknown' is what loopback and many virtual drivers report while they work; carrier then decides.
        bool up = carrier == "1" && operstate is "up" or "unknown";
        return new CheckResult(up, detail);
    }

    private static async Task<string?> ReadAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return (await File.ReadAllTextAsync(path, cancellationToken)).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

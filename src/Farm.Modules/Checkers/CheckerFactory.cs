using Farm.Core.Config;

namespace Farm.Modules.Checkers;

/// <summary>Builds the real checker for a configured one.</summary>
internal static class CheckerFactory
{
    public static IChecker Create(CheckerConfig config, CheckerContext context) => config switch
    {
        TcpCheckerConfig tcp => new TcpChecker(tcp),
        HttpCheckerConfig http => new HttpChecker(http),
        ProcessCheckerConfig process => new ProcessChecker(process),
        CustomCheckerConfig custom => new CustomChecker(custom, context),
        InterfaceCheckerConfig link => new InterfaceChecker(link),
        PingCheckerConfig ping => new PingChecker(ping),
        _ => throw new ArgumentException($"unknown checker type {config.Type}", nameof(config)),
    };
}

namespace Farm.Modules.Tests.TestSupport;

/// <summary>Module configurations for tests, built directly (no YAML).</summary>
internal static class TestModules
{
    public static ModuleConfig Module(ModuleMode mode = ModuleMode.Balance, params CheckerConfig[] checkers) => new()
    {
        Name = "web",
        Vips = [IPAddress.Parse("198.18.100.1")],
        Interface = "eth0",
        Mode = mode,
        Rules = [new PortRuleConfig { FirstPort = 80, LastPort = 80 }],
        Checkers = checkers,
    };

    public static TcpCheckerConfig Tcp(string name, CheckerAction action = CheckerAction.Restart, CheckerWhen when = CheckerWhen.Always) =>
        new() { Name = name, Address = "127.0.0.1", Port = 80, Action = action, When = when };
}

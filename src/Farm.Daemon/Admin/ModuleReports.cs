using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Admin;

/// <summary>Turns a module's runtime state into its admin API message.</summary>
internal static class ModuleReports
{
    /// <summary>The INVALID_ARGUMENT text for a module this node does not have, naming the ones it has.</summary>
    public static string UnknownModule(string module, IReadOnlyList<ModuleConfig> modules) => modules.Count == 0
        ? $"unknown module '{module}': this node has no modules"
        : $"unknown module '{module}' (modules: {string.Join(", ", modules.Select(m => m.Name))})";

    public static Wire.ModuleReport From(ModuleRuntime runtime)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        var status = runtime.Status;
        var config = runtime.Config;
        var report = new Wire.ModuleReport
        {
            Module = config.Name,
            Mode = config.Mode == ModuleMode.Single ? "single" : "balance",
            State = status.State switch
            {
                ModuleState.Stop => Wire.ModuleRunState.Stop,
                ModuleState.Wait => Wire.ModuleRunState.Wait,
                _ => Wire.ModuleRunState.Up,
            },
            SubState = status.SubState switch
            {
                ModuleSubState.NotReady => Wire.ModuleSubState.NotReady,
                ModuleSubState.Transient => Wire.ModuleSubState.Transient,
                _ => Wire.ModuleSubState.Ready,
            },
            Reason = status.Reason,
            SinceUnixMs = status.Since.ToUnixTimeMilliseconds(),
            Step = status.Step ?? "",
            RecoveryCount = status.RecoveryCount,
            MaxLoop = config.Recovery.MaxLoop,
            Primary = status.IsPrimary,
            TrafficOpen = runtime.TrafficOpen,
            DataPlane = runtime.DataPlane,
        };
        foreach (var checker in status.Checkers)
        {
            var configured = config.Checkers.FirstOrDefault(c => c.Name == checker.Name);
            var item = new Wire.CheckerReport
            {
                Name = checker.Name,
                Type = configured?.Type.ToString().ToLowerInvariant() ?? "",
                Action = configured?.Action.ToString().ToLowerInvariant() ?? "",
                Detail = checker.Detail,
                SinceUnixMs = checker.Since?.ToUnixTimeMilliseconds() ?? 0,
            };
            if (checker.Up is { } up)
            {
                item.Up = up;
            }

            report.Checkers.Add(item);
        }

        return report;
    }
}

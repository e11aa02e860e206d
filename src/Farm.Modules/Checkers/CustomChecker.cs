using Farm.Core.Config;
using Farm.Modules.Scripts;

namespace Farm.Modules.Checkers;

/// <summary><c>type: custom</c>: runs a script of the module; up on exit code 0. Its last output line becomes the detail.</summary>
internal sealed class CustomChecker(CustomCheckerConfig config, CheckerContext context) : IChecker
{
    // After SIGTERM at the checker timeout the script gets this long before SIGKILL: a check has nothing to clean up.
    private static readonly TimeSpan KillGrace = TimeSpan.FromMilliseconds(500);

    public async Task<CheckResult> CheckAsync(CancellationToken cancellationToken)
    {
        string path = Path.GetFullPath(Path.Combine(context.ModuleDirectory, config.Script));
        var environment = new Dictionary<string, string>(context.Environment, StringComparer.Ordinal) { ["FARM_CHECKER"] = config.Name };
        var request = new ScriptRequest(
            context.Module, config.Name, path, [], environment, context.ModuleDirectory, config.Timeout, KillGrace, ForceOnTimeout: false, Quiet: true);
        var result = await context.Runner.RunAsync(request, cancellationToken);
        return result.Outcome switch
        {
            ScriptOutcome.Succeeded => CheckResult.Pass(result.LastOutput ?? "exit code 0"),
            ScriptOutcome.Skipped => CheckResult.Fail($"{config.Script} does not exist"),
            _ => CheckResult.Fail($"{config.Script}: {result.Describe()}"),
        };
    }
}

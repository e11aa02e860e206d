using Microsoft.Extensions.Logging;

namespace Farm.Cluster.Membership;

/// <summary>
/// The installed view's module mismatches (<see cref="ModuleAgreement.Mismatches"/>) kept for status, each logged once
/// when it appears and once when it ends.
/// </summary>
internal sealed partial class ModuleMismatchLog(string selfName, IReadOnlyList<ModuleSpec> modules, ILogger logger)
{
    /// <summary>The mismatches of the latest installed view; empty before the first.</summary>
    public IReadOnlyList<ModuleMismatch> Current { get; private set; } = [];

    /// <summary>Recomputes the mismatches for the newly installed <paramref name="view"/> and logs what changed.</summary>
    public void Note(ClusterView view)
    {
        var before = Current;
        Current = ModuleAgreement.Mismatches(view, modules.Select(m => m.Name));
        foreach (var m in Current)
        {
            if (before.Any(b => b.Module == m.Module && b.Node == m.Node && b.TheirHash == m.TheirHash && b.AgreedHash == m.AgreedHash))
            {
                continue;
            }

            string settings = string.Join(", ", m.Settings);
            if (m.Node == selfName)
            {
                Log.OwnModuleDiffers(logger, m.Module, m.TheirHash, m.AgreedHash, settings);
            }
            else
            {
                Log.PeerModuleDiffers(logger, m.Node, m.Module, m.TheirHash, m.AgreedHash, settings);
            }
        }

        foreach (var b in before.Where(b => !Current.Any(m => m.Module == b.Module && m.Node == b.Node)))
        {
            Log.ModuleAgrees(logger, b.Node, b.Module);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3300, Level = LogLevel.Error, Message = "Module {Module} here differs from the definition the farm agreed on (hash {OwnHash}, agreed {AgreedHash}; differing settings: {Settings}): this node gets none of its buckets until its farm.yaml matches and is reloaded (farmctl module reload) or farmd restarts")]
        public static partial void OwnModuleDiffers(ILogger logger, string module, string ownHash, string agreedHash, string settings);

        [LoggerMessage(EventId = 3301, Level = LogLevel.Warning, Message = "Node {Node} runs module {Module} with another definition (hash {TheirHash}, agreed {AgreedHash}; differing settings: {Settings}): it gets none of its buckets")]
        public static partial void PeerModuleDiffers(ILogger logger, string node, string module, string theirHash, string agreedHash, string settings);

        [LoggerMessage(EventId = 3302, Level = LogLevel.Information, Message = "Node {Node} no longer differs on module {Module} (agrees, or left the view)")]
        public static partial void ModuleAgrees(ILogger logger, string node, string module);
    }
}

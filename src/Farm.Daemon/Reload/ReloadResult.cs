namespace Farm.Daemon.Reload;

/// <summary>The outcome of one live change of the cluster file on this node.</summary>
/// <param name="Outcome">Applied, unchanged, refused or failed.</param>
/// <param name="Errors">Why refused or failed, one problem per item (configuration errors as <c>FILE:LINE:COLUMN: error: …</c>).</param>
/// <param name="Version">The <c>version</c> running after the change (the old one unless applied).</param>
/// <param name="PreviousWeight">This node's weight before.</param>
/// <param name="Weight">This node's weight after.</param>
/// <param name="Path">The node's cluster file.</param>
internal sealed record ReloadResult(ReloadOutcome Outcome, IReadOnlyList<string> Errors, int Version, int PreviousWeight, int Weight, string Path);

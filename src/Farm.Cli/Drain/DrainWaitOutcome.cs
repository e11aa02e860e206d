namespace Farm.Cli.Drain;

/// <summary>How <c>drain --wait</c> ended.</summary>
/// <param name="Drained">The node showed drained.</param>
/// <param name="Elapsed">How long the wait took.</param>
/// <param name="Message">What to tell the admin.</param>
internal sealed record DrainWaitOutcome(bool Drained, TimeSpan Elapsed, string Message);

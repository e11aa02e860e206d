namespace Farm.WebConsole;

/// <summary>The outcome of a console action, as the operator reads it.</summary>
/// <param name="Ok">Whether it was done (on every node it concerned).</param>
/// <param name="Message">What happened, or what went wrong, in one or a few lines.</param>
public sealed record ConsoleActionResult(bool Ok, string Message);

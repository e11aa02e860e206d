namespace Farm.Modules;

/// <summary>The last result of one checker, as shown by status.</summary>
/// <param name="Name">Checker name from <c>farm.yaml</c>.</param>
/// <param name="Up">True when the last check passed, false when it failed, null when it has not run since it was (re)armed.</param>
/// <param name="Detail">What the last check saw, e.g. "connection refused".</param>
/// <param name="Since">When <paramref name="Up"/> last changed; null while it has not run.</param>
public sealed record CheckerStatus(string Name, bool? Up, string Detail, DateTimeOffset? Since);

namespace Farm.Modules.Checkers;

/// <summary>The verdict of one check.</summary>
/// <param name="Up">True when the check passed.</param>
/// <param name="Detail">What it saw, short enough for a status line, e.g. "connection refused".</param>
internal readonly record struct CheckResult(bool Up, string Detail)
{
    public static CheckResult Pass(string detail) => new(true, detail);

    public static CheckResult Fail(string detail) => new(false, detail);
}

namespace Farm.Core.Config;

/// <summary>A checker that runs a script of the module and passes when it exits 0 (<c>type: custom</c>).</summary>
public sealed record CustomCheckerConfig : CheckerConfig
{
    /// <inheritdoc/>
    public override CheckerType Type => CheckerType.Custom;

    /// <summary><c>script</c>: path relative to the module folder, with '/' separators and no '..', e.g. <c>bin/check_db</c>. Required.</summary>
    public required string Script { get; init; }
}

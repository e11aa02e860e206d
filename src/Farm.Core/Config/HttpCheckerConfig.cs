namespace Farm.Core.Config;

/// <summary>A checker that passes when a GET of <see cref="Url"/> answers the expected status and body (<c>type: http</c>).</summary>
public sealed record HttpCheckerConfig : CheckerConfig
{
    /// <summary>Default of <see cref="ExpectStatus"/>.</summary>
    public const int DefaultExpectStatus = 200;

    /// <inheritdoc/>
    public override CheckerType Type => CheckerType.Http;

    /// <summary><c>url</c>: absolute http:// or https:// URL. Required.</summary>
    public required Uri Url { get; init; }

    /// <summary><c>expect_status</c>: the HTTP status that counts as healthy. Default 200; 100 to 599.</summary>
    public int ExpectStatus { get; init; } = DefaultExpectStatus;

    /// <summary><c>expect_body</c>: text the response body must contain; null (the default) checks only the status.</summary>
    public string? ExpectBody { get; init; }
}

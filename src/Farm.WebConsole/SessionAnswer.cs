using System.Text.Json.Serialization;

namespace Farm.WebConsole;

/// <summary>What <c>/console/session</c> tells the page: who is logged in, their role, the token to send with actions.</summary>
/// <param name="Login">Whether the console needs a login (false: read-only for everyone).</param>
/// <param name="User">The user's name; null without login.</param>
/// <param name="Role"><c>viewer</c> or <c>operator</c>.</param>
/// <param name="Csrf">The antiforgery request token for the <c>X-Farm-Csrf</c> header; null without login.</param>
internal sealed record SessionAnswer(
    [property: JsonPropertyName("login")] bool Login,
    [property: JsonPropertyName("user")] string? User,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("csrf")] string? Csrf);

/// <summary>Source-generated JSON of <see cref="SessionAnswer"/>.</summary>
[JsonSerializable(typeof(SessionAnswer))]
internal sealed partial class SessionJson : JsonSerializerContext;

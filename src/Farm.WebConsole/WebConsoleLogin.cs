using System.Net;
using System.Security.Claims;
using System.Text;
using Farm.Protocol.Security;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Farm.WebConsole;

/// <summary>
/// The console's login (with a users file): ASP.NET Core cookie authentication (cookie HttpOnly, Secure,
/// SameSite=Strict, 8 hours, sliding), roles <c>viewer</c> and <c>operator</c> as authorization policies, ASP.NET Core
/// antiforgery tokens for every action (sent by the page in the <see cref="CsrfHeader"/> header), failed logins
/// throttled per address and per user (<see cref="ConsoleLoginThrottle"/>) and logged. The keys that protect the
/// cookies live in memory only: sessions end when farmd restarts.
/// </summary>
public static partial class WebConsoleLogin
{
    /// <summary>The authentication scheme (cookies), used by the console's endpoints only.</summary>
    public const string Scheme = "FarmConsole";

    /// <summary>Policy: any logged-in user (viewer or operator).</summary>
    public const string ViewerPolicy = "FarmConsoleViewer";

    /// <summary>Policy: a logged-in operator.</summary>
    public const string OperatorPolicy = "FarmConsoleOperator";

    /// <summary>The header that carries the antiforgery request token of each action.</summary>
    public const string CsrfHeader = "X-Farm-Csrf";

    /// <summary>The session cookie's name.</summary>
    public const string CookieName = "farm_console";

    /// <summary>The antiforgery cookie's name.</summary>
    public const string CsrfCookieName = "farm_console_csrf";

    /// <summary>A session ends after this long without a request.</summary>
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromHours(8);

    /// <summary>
    /// Registers the console's login when <paramref name="usersFile"/> is set (it existed at start); without it the
    /// console is read-only and open, and nothing is registered.
    /// </summary>
    public static IServiceCollection AddWebConsoleLogin(this IServiceCollection services, string? usersFile)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (usersFile is null)
        {
            return services;
        }

        services.AddSingleton(sp => new ConsoleUsers(usersFile, sp.GetRequiredService<ILogger<ConsoleUsers>>()));
        services.AddSingleton<ConsoleLoginThrottle>();
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddAuthentication().AddCookie(Scheme, o =>
        {
            o.Cookie.Name = CookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.Path = "/";
            o.ExpireTimeSpan = SessionLifetime;
            o.SlidingExpiration = true;
            o.LoginPath = "/console/login";
            o.Events.OnRedirectToLogin = c =>
            {
                // The page goes to the login form; the feed and the actions answer 401 (a script cannot follow a form).
                if (HttpMethods.IsGet(c.Request.Method) && c.Request.Path == "/")
                {
                    c.Response.Redirect("/console/login");
                }
                else
                {
                    c.Response.StatusCode = StatusCodes.Status401Unauthorized;
                }

                return Task.CompletedTask;
            };
            o.Events.OnRedirectToAccessDenied = c =>
            {
                Log.Forbidden(Logger(c.HttpContext), c.HttpContext.User.Identity?.Name ?? "?", Address(c.HttpContext), c.Request.Path);
                c.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            };
            o.Events.OnValidatePrincipal = c =>
            {
                // Removed from the file, or another role now: the session ends.
                var users = c.HttpContext.RequestServices.GetRequiredService<ConsoleUsers>();
                var role = c.Principal?.IsInRole(ConsoleUserFile.NameOf(ConsoleRole.Operator)) == true ? ConsoleRole.Operator : ConsoleRole.Viewer;
                if (c.Principal?.Identity?.Name is not { } name || !users.StillIs(name, role))
                {
                    c.RejectPrincipal();
                }

                return Task.CompletedTask;
            };
        });
        services.AddOptions<CookieAuthenticationOptions>(Scheme).Configure<TimeProvider>((o, t) => o.TimeProvider = t);
        services.AddAuthorizationBuilder()
            .AddPolicy(ViewerPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser())
            .AddPolicy(OperatorPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireRole(ConsoleUserFile.NameOf(ConsoleRole.Operator)));
        services.AddAntiforgery(o =>
        {
            o.HeaderName = CsrfHeader;
            o.Cookie.Name = CsrfCookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.SuppressXFrameOptionsHeader = true; // the Content-Security-Policy says frame-ancestors 'none'
        });
        return services;
    }

    /// <summary>Whether the console needs a login (its services were registered with a users file).</summary>
    public static bool IsEnabled(IServiceProvider services) => services.GetService<ConsoleUsers>() is not null;

    /// <summary>Maps <c>/console/login</c> (GET: the form; POST: log in), <c>/console/logout</c> (POST) and <c>/console/session</c>.</summary>
    internal static IEnumerable<IEndpointConventionBuilder> MapLogin(IEndpointRouteBuilder routes)
    {
        yield return routes.MapGet("/console/login", (HttpContext context) => LoginPage(context, null, StatusCodes.Status200OK));
        yield return routes.MapPost("/console/login", (Func<HttpContext, Task<IResult>>)LoginAsync).DisableAntiforgery();
        yield return routes.MapPost("/console/logout", async (HttpContext context) =>
            {
                if (await CsrfRefusalAsync(context) is { } refusal)
                {
                    return refusal;
                }

                await context.SignOutAsync(Scheme);
                Log.LoggedOut(Logger(context), context.User.Identity?.Name ?? "?", Address(context));
                return Results.NoContent();
            })
            .RequireAuthorization(ViewerPolicy);
        yield return routes.MapGet("/console/session", (HttpContext context, IAntiforgery antiforgery) =>
            {
                var tokens = antiforgery.GetAndStoreTokens(context);
                context.Response.Headers.CacheControl = "no-store";
                return Results.Json(new SessionAnswer(true, context.User.Identity?.Name, Role(context.User), tokens.RequestToken), SessionJson.Default.SessionAnswer);
            })
            .RequireAuthorization(ViewerPolicy);
    }

    /// <summary>
    /// For a request of a logged-in user: whether their session is still good (in the file with that role, not
    /// expired), asked again later; null without login.
    /// </summary>
    internal static Func<bool>? SessionCheck(HttpContext context)
    {
        if (context.RequestServices.GetService<ConsoleUsers>() is not { } users || context.User.Identity?.Name is not { } name)
        {
            return null;
        }

        var role = context.User.IsInRole(ConsoleUserFile.NameOf(ConsoleRole.Operator)) ? ConsoleRole.Operator : ConsoleRole.Viewer;
        var expires = context.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult?.Properties?.ExpiresUtc;
        var time = context.RequestServices.GetRequiredService<TimeProvider>();
        return () => users.StillIs(name, role) && (expires is not { } end || time.GetUtcNow() < end);
    }

    /// <summary>The session of a console without login: nobody is logged in, nothing may be done.</summary>
    internal static IResult OpenSession() => Results.Json(new SessionAnswer(false, null, "viewer", null), SessionJson.Default.SessionAnswer);

    /// <summary>Null when the request carries a valid antiforgery token for its session; the refusal otherwise (logged).</summary>
    internal static async Task<IResult?> CsrfRefusalAsync(HttpContext context)
    {
        var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
        if (await antiforgery.IsRequestValidAsync(context))
        {
            return null;
        }

        Log.CsrfRefused(Logger(context), context.User.Identity?.Name ?? "?", Address(context), context.Request.Path);
        return Results.Text($"refused: no valid antiforgery token (header {CsrfHeader}); reload the page\n", "text/plain", statusCode: StatusCodes.Status400BadRequest);
    }

    internal static string Address(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    internal static ILogger Logger(HttpContext context) => context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Farm.WebConsole.Login");

    private static string Role(ClaimsPrincipal user) =>
        ConsoleUserFile.NameOf(user.IsInRole(ConsoleUserFile.NameOf(ConsoleRole.Operator)) ? ConsoleRole.Operator : ConsoleRole.Viewer);

    private static async Task<IResult> LoginAsync(HttpContext context)
    {
        var logger = Logger(context);
        string address = Address(context);
        if (!SameOrigin(context.Request))
        {
            // Login CSRF: the form is posted only from this console's own page (browsers say where a POST comes from).
            Log.CsrfRefused(logger, "?", address, context.Request.Path);
            return LoginPage(context, "refused: the login form must come from this console", StatusCodes.Status403Forbidden);
        }

        if (!context.Request.HasFormContentType)
        {
            return LoginPage(context, "user name and password, please", StatusCodes.Status400BadRequest);
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        string name = form["user"].ToString().Trim();
        string password = form["password"].ToString();
        var throttle = context.RequestServices.GetRequiredService<ConsoleLoginThrottle>();
        if (!throttle.MayTry(address, name))
        {
            Log.Throttled(logger, name, address);
            context.Response.Headers.RetryAfter = ((int)ConsoleLoginThrottle.Window.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return LoginPage(context, "too many failed logins: wait a minute", StatusCodes.Status429TooManyRequests);
        }

        var users = context.RequestServices.GetRequiredService<ConsoleUsers>();
        if (ConsoleUserFile.Verify(users.Current(), name, password) is not { } user)
        {
            throttle.Failed(address, name);
            Log.LoginFailed(logger, name, address);
            return LoginPage(context, "wrong user name or password", StatusCodes.Status401Unauthorized);
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, user.Name), new Claim(ClaimTypes.Role, ConsoleUserFile.NameOf(user.Role))], Scheme);
        await context.SignInAsync(Scheme, new ClaimsPrincipal(identity));
        Log.LoggedIn(logger, user.Name, ConsoleUserFile.NameOf(user.Role), address);
        return Results.Redirect("/", permanent: false, preserveMethod: false);
    }

    /// <summary>
    /// The browser says the form came from this console: <c>Sec-Fetch-Site</c>, when sent (every current browser does),
    /// is <c>same-origin</c> (or <c>none</c>: typed by the user), and an <c>Origin</c> other than <c>null</c> (which the
    /// page's Referrer-Policy no-referrer makes the browser send) names this very host.
    /// </summary>
    private static bool SameOrigin(HttpRequest request)
    {
        string site = request.Headers["Sec-Fetch-Site"].ToString();
        string origin = request.Headers.Origin.ToString();
        return site is "" or "same-origin" or "none"
            && (origin is "" or "null" || string.Equals(origin, "https://" + request.Host.Value, StringComparison.OrdinalIgnoreCase));
    }

    private static IResult LoginPage(HttpContext context, string? message, int status)
    {
        var page = ConsoleAssets.Find("login.html")!.Value;
        string html = Encoding.UTF8.GetString(page.Content).Replace(
            "<!--message-->",
            message is null ? "" : $"<p id=\"message\" class=\"error\">{WebUtility.HtmlEncode(message)}</p>",
            StringComparison.Ordinal);
        WebConsoleEndpoints.Secure(context.Response);
        context.Response.Headers.CacheControl = "no-store";
        return Results.Text(html, page.ContentType, Encoding.UTF8, status);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1700, Level = LogLevel.Warning, Message = "Console login refused for user '{User}' from {Address}: wrong user name or password")]
        public static partial void LoginFailed(ILogger logger, string user, string address);

        [LoggerMessage(EventId = 1701, Level = LogLevel.Warning, Message = "Console login for user '{User}' from {Address} refused without checking: too many failed logins in the last minute")]
        public static partial void Throttled(ILogger logger, string user, string address);

        [LoggerMessage(EventId = 1702, Level = LogLevel.Information, Message = "Console user {User} ({Role}) logged in from {Address}")]
        public static partial void LoggedIn(ILogger logger, string user, string role, string address);

        [LoggerMessage(EventId = 1703, Level = LogLevel.Information, Message = "Console user {User} logged out from {Address}")]
        public static partial void LoggedOut(ILogger logger, string user, string address);

        [LoggerMessage(EventId = 1704, Level = LogLevel.Warning, Message = "Console user {User} from {Address} refused {Path}: operators only")]
        public static partial void Forbidden(ILogger logger, string user, string address, string path);

        [LoggerMessage(EventId = 1705, Level = LogLevel.Warning, Message = "Console request {Path} by {User} from {Address} refused: no valid antiforgery token")]
        public static partial void CsrfRefused(ILogger logger, string user, string address, string path);
    }
}

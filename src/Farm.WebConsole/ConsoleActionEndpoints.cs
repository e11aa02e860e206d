using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Farm.WebConsole;

/// <summary>
/// The operators' actions, each a POST of a form (<c>application/x-www-form-urlencoded</c>) with the antiforgery
/// token in the <c>X-Farm-Csrf</c> header: <c>/console/actions/drain</c> and <c>/resume</c> (<c>node</c>),
/// <c>/console/actions/module</c> (<c>module</c>, <c>action</c> start|stop|restart, <c>node</c> or <c>*</c> for every
/// node), <c>/console/actions/weight</c> (<c>node</c>, <c>weight</c>). 200 with what happened, 400 with what went wrong
/// (refused, or a node could not do it); 401 without a session, 403 for a viewer.
/// </summary>
internal static partial class ConsoleActionEndpoints
{
    public static IEnumerable<IEndpointConventionBuilder> Map(IEndpointRouteBuilder routes, IConsoleActions actions)
    {
        yield return Action(routes, "drain", (form, by, ct) => actions.DrainAsync(form["node"].ToString(), drain: true, by, ct));
        yield return Action(routes, "resume", (form, by, ct) => actions.DrainAsync(form["node"].ToString(), drain: false, by, ct));
        yield return Action(routes, "module", (form, by, ct) =>
        {
            string node = form["node"].ToString();
            return actions.ControlModuleAsync(form["module"].ToString(), form["action"].ToString(), node is "*" or "" ? null : node, by, ct);
        });
        yield return Action(routes, "weight", (form, by, ct) =>
            int.TryParse(form["weight"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out int weight)
                ? actions.SetWeightAsync(form["node"].ToString(), weight, by, ct)
                : Task.FromResult(new ConsoleActionResult(false, $"weight '{form["weight"]}' is not a whole number from 0 up")));
    }

    private static RouteHandlerBuilder Action(
        IEndpointRouteBuilder routes, string name, Func<IFormCollection, string, CancellationToken, Task<ConsoleActionResult>> run) =>
        routes.MapPost("/console/actions/" + name, async (HttpContext context) =>
            {
                if (await WebConsoleLogin.CsrfRefusalAsync(context) is { } refusal)
                {
                    return refusal;
                }

                var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted) : FormCollection.Empty;
                string user = context.User.Identity?.Name ?? "?";
                string address = WebConsoleLogin.Address(context);
                var result = await run(form, $"console user {user} from {address}", context.RequestAborted);
                Log.Acted(WebConsoleLogin.Logger(context), user, address, name, string.Join(" ", form.Select(f => $"{f.Key}={f.Value}")), result.Ok, result.Message);
                WebConsoleEndpoints.Secure(context.Response);
                return Results.Text(result.Message + "\n", "text/plain", statusCode: result.Ok ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest);
            })
            .RequireAuthorization(WebConsoleLogin.OperatorPolicy)
            .DisableAntiforgery(); // checked above, from the header, before the form is read

    private static partial class Log
    {
        [LoggerMessage(EventId = 1707, Level = LogLevel.Information, Message = "Console user {User} from {Address}: {Action} {Arguments}: ok {Ok}: {Result}")]
        public static partial void Acted(ILogger logger, string user, string address, string action, string arguments, bool ok, string result);
    }
}

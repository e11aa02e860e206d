using Farm.Core.Hashing;
using Farm.Protocol.V1;

namespace Farm.Cli.WhoOwns;

/// <summary><c>farmctl who-owns CLIENT [--module M] [--port P] [--protocol tcp|udp] [--json]</c>.</summary>
internal static class WhoOwnsCommand
{
    public static Command Create(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var client = new Argument<string>("CLIENT")
        {
            Description = "The client: IP, IP:PORT, IPv6 or [IPv6]:PORT. PORT is the client's source port; only client_ip_port rules hash it.",
        };
        client.Validators.Add(result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (text.StartsWith('-'))
            {
                result.AddError($"Unrecognized option '{text}'.");
            }
            else if (!ClientKey.TryParse(text, out _))
            {
                result.AddError($"'{text}' is not a client address: write IP, IP:PORT, IPv6 or [IPv6]:PORT (e.g. 10.1.2.3:51000).");
            }
        });
        var module = new Option<string?>("--module", "-m") { Description = "Only this module (default: every module of the node).", HelpName = "MODULE" };
        var port = new Option<int?>("--port", "-p")
        {
            Description = "Only rules covering this VIP port, the port the client connects to (default: every rule).",
            HelpName = "PORT",
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int p) || p is < 1 or > 65535)
                {
                    result.AddError($"--port {text} is not a port (1 to 65535).");
                    return null;
                }

                return p;
            },
        };
        var protocol = new Option<string?>("--protocol") { Description = "Only rules of this protocol.", HelpName = "tcp|udp" };
        protocol.AcceptOnlyFromAmong("tcp", "udp");
        var json = AdminCommandRunner.JsonOption();
        return AdminCommandRunner.Create(
            context,
            "who-owns",
            "Show which node serves a client now (from the node's installed view) and why: module, rule and affinity, bucket, owner, bucket state.",
            [client, module, port, protocol, json],
            async (parseResult, admin, ct) =>
            {
                _ = ClientKey.TryParse(parseResult.GetValue(client)!, out var key);
                var query = new WhoOwnsQuery
                {
                    ClientAddress = key.Address.ToString(),
                    ClientPort = key.Port ?? 0,
                    Module = parseResult.GetValue(module) ?? "",
                    ServicePort = (uint)(parseResult.GetValue(port) ?? 0),
                    Protocol = parseResult.GetValue(protocol) ?? "",
                };
                var answer = await admin.WhoOwnsAsync(query, ct);
                if (parseResult.GetValue(json))
                {
                    await context.Output.WriteLineAsync(WhoOwnsOutput.Json(answer));
                }
                else
                {
                    WhoOwnsOutput.Render(context.Terminal.CreateConsole(context.Output), answer);
                }

                return WhoOwnsOutput.Answered(answer) ? CliApp.ExitOk : CliApp.ExitFailed;
            });
    }
}

using Farm.Protocol.Security;

namespace Farm.Cli.ConsoleUsers;

/// <summary>
/// <c>farmctl console user add NAME --role viewer|operator</c>, <c>remove NAME</c> and <c>list</c>: the web console's
/// users file (<c>cluster.console_users</c>, default /etc/farm/console-users), written whole with mode 0600. The
/// password is read from standard input (one line) or typed twice at a prompt without echo; never from the command line,
/// where any user could read it in the process list.
/// </summary>
internal static class ConsoleUserCommand
{
    public static Command Create(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var file = new Option<string>("--file")
        {
            Description = "The users file (the cluster file's console_users).",
            HelpName = "PATH",
            DefaultValueFactory = _ => ClusterConfig.DefaultConsoleUsers,
            Recursive = true,
        };
        var name = new Argument<string>("NAME") { Description = "The user's name: letters, digits, '.', '_', '-', '@'." };
        var role = new Option<string>("--role") { Description = "viewer (sees the farm) or operator (sees and acts).", Required = true };
        role.AcceptOnlyFromAmong("viewer", "operator");
        var add = new Command("add", "Add a user, or give an existing one a new password and role; the password is read from standard input or a prompt.") { name, role };
        add.SetAction(r => Add(context, r.GetValue(file)!, r.GetValue(name)!, ConsoleUserFile.RoleOf(r.GetValue(role)!)!.Value));
        var removed = new Argument<string>("NAME") { Description = "The user to remove." };
        var remove = new Command("remove", "Remove a user (their session ends at their next request).") { removed };
        remove.SetAction(r => Remove(context, r.GetValue(file)!, r.GetValue(removed)!));
        var list = new Command("list", "List the users and their roles.");
        list.SetAction(r => List(context, r.GetValue(file)!));
        var user = new Command("user", "The web console's users (docs/operations.md, \"Web console\").") { add, remove, list };
        return new Command("console", "The web console.") { file, user };
    }

    private static int Add(CliContext context, string file, string name, ConsoleRole role)
    {
        if (!ConsoleUserFile.IsValidName(name))
        {
            context.Error.WriteLine($"farmctl: '{name}' is not a user name: letters, digits, '.', '_', '-' and '@', at most {ConsoleUserFile.MaxNameLength}");
            return CliApp.ExitUsage;
        }

        if (ReadUsers(context, file, mayBeMissing: true) is not { } users)
        {
            return CliApp.ExitFailed;
        }

        string? password = ReadPassword(context, name);
        if (password is null)
        {
            return CliApp.ExitFailed;
        }

        if (ConsoleUserFile.CheckPassword(password) is { } problem)
        {
            context.Error.WriteLine("farmctl: " + problem);
            return CliApp.ExitFailed;
        }

        var user = ConsoleUserFile.Create(name, role, password);
        bool existed = users.Any(u => u.Name == name);
        var updated = existed ? users.Select(u => u.Name == name ? user : u).ToList() : [.. users, user];
        if (!Write(context, file, updated))
        {
            return CliApp.ExitFailed;
        }

        context.Output.WriteLine($"{(existed ? "updated" : "added")} {name} ({ConsoleUserFile.NameOf(role)}) in {file}"
            + (existed || users.Count > 0 ? "" : "; restart farmd on this node so that its console asks for a login"));
        return CliApp.ExitOk;
    }

    private static int Remove(CliContext context, string file, string name)
    {
        if (ReadUsers(context, file, mayBeMissing: false) is not { } users)
        {
            return CliApp.ExitFailed;
        }

        if (!users.Any(u => u.Name == name))
        {
            context.Error.WriteLine($"farmctl: no user '{name}' in {file}");
            return CliApp.ExitFailed;
        }

        if (!Write(context, file, users.Where(u => u.Name != name)))
        {
            return CliApp.ExitFailed;
        }

        context.Output.WriteLine($"removed {name} from {file}");
        return CliApp.ExitOk;
    }

    private static int List(CliContext context, string file)
    {
        if (ReadUsers(context, file, mayBeMissing: false) is not { } users)
        {
            return CliApp.ExitFailed;
        }

        foreach (var user in users)
        {
            context.Output.WriteLine($"{user.Name} {ConsoleUserFile.NameOf(user.Role)}");
        }

        return CliApp.ExitOk;
    }

    private static List<ConsoleUser>? ReadUsers(CliContext context, string file, bool mayBeMissing)
    {
        if (mayBeMissing && !File.Exists(file))
        {
            return [];
        }

        try
        {
            var (users, errors) = ConsoleUserFile.Read(file);
            if (errors.Count > 0)
            {
                foreach (string error in errors)
                {
                    context.Error.WriteLine($"farmctl: {file}: {error}");
                }

                context.Error.WriteLine("farmctl: fix or remove these lines first: the file is written whole");
                return null;
            }

            return [.. users];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            context.Error.WriteLine($"farmctl: cannot read {file}: {ex.Message}");
            return null;
        }
    }

    private static bool Write(CliContext context, string file, IEnumerable<ConsoleUser> users)
    {
        try
        {
            ConsoleUserFile.Write(file, users);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            context.Error.WriteLine($"farmctl: cannot write {file}: {ex.Message}");
            return false;
        }
    }

    /// <summary>One line of the given input or of a redirected standard input; at a terminal, typed twice without echo.</summary>
    private static string? ReadPassword(CliContext context, string name)
    {
        if (context.Input is not null || Console.IsInputRedirected)
        {
            string? line = (context.Input ?? Console.In).ReadLine();
            if (line is null)
            {
                context.Error.WriteLine("farmctl: no password on standard input (one line)");
            }

            return line;
        }

        string first = Prompt(context, $"password for {name}: ");
        string second = Prompt(context, "again: ");
        if (first != second)
        {
            context.Error.WriteLine("farmctl: the two passwords differ");
            return null;
        }

        return first;
    }

    private static string Prompt(CliContext context, string prompt)
    {
        context.Error.Write(prompt);
        var typed = new StringBuilder();
        for (var key = Console.ReadKey(intercept: true); key.Key != ConsoleKey.Enter; key = Console.ReadKey(intercept: true))
        {
            if (key.Key == ConsoleKey.Backspace)
            {
                typed.Length = Math.Max(0, typed.Length - 1);
            }
            else if (!char.IsControl(key.KeyChar))
            {
                typed.Append(key.KeyChar);
            }
        }

        context.Error.WriteLine();
        return typed.ToString();
    }
}

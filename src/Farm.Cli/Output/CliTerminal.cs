using Spectre.Console;

namespace Farm.Cli.Output;

/// <summary>What farmctl knows about where its standard output goes: colors and width only when a person reads it.</summary>
/// <param name="IsTerminal">Standard output is a terminal (not redirected to a file or a pipe).</param>
/// <param name="Width">Columns available; wide enough that tables never wrap when output is redirected.</param>
/// <param name="Unicode">Box-drawing characters are safe (a UTF-8 terminal).</param>
internal sealed record CliTerminal(bool IsTerminal, int Width, bool Unicode)
{
    /// <summary>Redirected output: no colors, no escape sequences, no wrapping. Tests use it too.</summary>
    public static CliTerminal Redirected { get; } = new(false, 400, false);

    /// <summary>What the current process's standard output is.</summary>
    public static CliTerminal Detect()
    {
        if (Console.IsOutputRedirected)
        {
            return Redirected;
        }

        int width;
        try
        {
            width = Console.WindowWidth > 0 ? Console.WindowWidth : 120;
        }
        catch (IOException)
        {
            width = 120;
        }

        return new CliTerminal(true, width, Console.OutputEncoding.CodePage == 65001);
    }

    /// <summary>A Spectre console that writes to <paramref name="output"/> with these capabilities.</summary>
    public IAnsiConsole CreateConsole(TextWriter output)
    {
        // NO_COLOR (https://no-color.org) switches colors off on a terminal too.
        bool color = IsTerminal && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = IsTerminal ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = color ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = Width;
        console.Profile.Capabilities.Unicode = Unicode;
        return console;
    }

    /// <summary>
    /// Gives <paramref name="table"/> the style of this output: rounded borders on a terminal; on redirected output no
    /// border at all, columns two spaces apart, which grep and awk read as easily as people do.
    /// </summary>
    public static void Style(IAnsiConsole console, Table table)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(table);
        if (console.Profile.Capabilities.Ansi)
        {
            table.Border = TableBorder.Rounded;
            return;
        }

        table.Border = TableBorder.None;
        foreach (var column in table.Columns)
        {
            column.Padding = new Padding(0, 0, 2, 0);
        }
    }
}

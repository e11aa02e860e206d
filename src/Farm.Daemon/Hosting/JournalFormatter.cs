using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Display;

namespace Farm.Daemon.Hosting;

/// <summary>
/// Formats a Serilog event for the systemd journal: no timestamp (journald adds its own), and every line, exception
/// lines included, prefixed with the event's syslog priority (<c>&lt;3&gt;</c> error ... <c>&lt;7&gt;</c> debug), so that
/// <c>journalctl -u farmd -p err</c> finds errors and their stack traces.
/// </summary>
internal sealed class JournalFormatter : ITextFormatter
{
    /// <summary>The template after the prefix.</summary>
    public const string Template = "{SourceContext}: {Message:lj}{NewLine}{Exception}";

    private readonly MessageTemplateTextFormatter inner = new(Template, CultureInfo.InvariantCulture);

    /// <summary>The syslog priority of a Serilog level: Fatal 2 (crit), Error 3, Warning 4, Information 6, Debug and Verbose 7.</summary>
    public static int PriorityOf(LogEventLevel level) => level switch
    {
        LogEventLevel.Fatal => 2,
        LogEventLevel.Error => 3,
        LogEventLevel.Warning => 4,
        LogEventLevel.Information => 6,
        _ => 7,
    };

    public void Format(LogEvent logEvent, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        ArgumentNullException.ThrowIfNull(output);
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        inner.Format(logEvent, text);
        using var lines = new JournalLineWriter(output, PriorityOf(logEvent.Level));
        lines.Write(text.ToString());
    }
}

using Serilog;
using Serilog.Events;
using MsLogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Farm.Daemon.ModuleHosting;

/// <summary>
/// A module's own log file, <c>LOGDIR/modules/NAME-YYYYMMDD.log</c>, rolled daily and kept 14 days like farmd's: the
/// module's history (transitions, script output, checker verdicts) survives farmd's ring buffer and restarts.
/// </summary>
internal sealed class ModuleLogFile : IDisposable
{
    private readonly Serilog.Core.Logger file;

    public ModuleLogFile(string logDirectory, string module)
    {
        file = new LoggerConfiguration()
            .MinimumLevel.Verbose()
            .WriteTo.File(
                Path.Combine(logDirectory, "modules", module + "-.log"),
                rollingInterval: RollingInterval.Day,
                retainedFileCountLimit: 14,
                outputTemplate: "{Timestamp:yyyy-MM-dd HH:mm:ss.fff} [{Level:u3}] {Message:l}{NewLine}",
                formatProvider: System.Globalization.CultureInfo.InvariantCulture)
            .CreateLogger();
    }

    /// <summary>Appends one line.</summary>
    public void Write(ModuleLogLine line)
    {
        ArgumentNullException.ThrowIfNull(line);
        file.Write(LevelOf(line.Level), "{Line:l}", line.Text);
    }

    public void Dispose() => file.Dispose();

    private static LogEventLevel LevelOf(MsLogLevel level) => level switch
    {
        MsLogLevel.Trace => LogEventLevel.Verbose,
        MsLogLevel.Debug => LogEventLevel.Debug,
        MsLogLevel.Information => LogEventLevel.Information,
        MsLogLevel.Warning => LogEventLevel.Warning,
        MsLogLevel.Error => LogEventLevel.Error,
        _ => LogEventLevel.Fatal,
    };
}

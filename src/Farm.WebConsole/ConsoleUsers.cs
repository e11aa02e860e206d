using Farm.Protocol.Security;
using Microsoft.Extensions.Logging;

namespace Farm.WebConsole;

/// <summary>
/// The users file, read again whenever it changed (its size or time of last write): <c>farmctl console user add</c>
/// takes effect at the next login without a restart of farmd, and a user removed or given another role loses the
/// session's old rights at the next request.
/// </summary>
internal sealed partial class ConsoleUsers(string path, ILogger<ConsoleUsers> logger)
{
    private readonly Lock gate = new();
    private (DateTime Written, long Length) stamp;
    private IReadOnlyList<ConsoleUser> users = [];

    /// <summary>The file's path.</summary>
    public string Path => path;

    /// <summary>The users now; none when the file cannot be read (logged).</summary>
    public IReadOnlyList<ConsoleUser> Current()
    {
        try
        {
            var info = new FileInfo(path);
            var now = (info.LastWriteTimeUtc, info.Exists ? info.Length : -1);
            lock (gate)
            {
                if (now == stamp)
                {
                    return users;
                }

                (IReadOnlyList<ConsoleUser> read, IReadOnlyList<string> errors) = info.Exists
                    ? ConsoleUserFile.Read(path)
                    : ([], ["the file is gone: nobody can log in"]);
                foreach (string error in errors)
                {
                    Log.FileProblem(logger, path, error);
                }

                (stamp, users) = (now, read);
                return users;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.FileProblem(logger, path, ex.Message);
            return [];
        }
    }

    /// <summary>The user named <paramref name="name"/> with role <paramref name="role"/>, if the file still says so.</summary>
    public bool StillIs(string name, ConsoleRole role) => Current().Any(u => u.Name == name && u.Role == role);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1706, Level = LogLevel.Warning, Message = "Console users file {Path}: {Problem}")]
        public static partial void FileProblem(ILogger logger, string path, string problem);
    }
}

namespace Farm.Testing.Processes;

/// <summary>A command could not start or exited with a non-zero code; the message names the command, exit code and stderr.</summary>
public sealed class CommandFailedException : Exception
{
    /// <summary>Creates the exception for a command that ran and failed.</summary>
    public CommandFailedException(CommandResult result)
        : base(Describe(result))
    {
        Result = result;
    }

    /// <summary>Creates an exception with a message only.</summary>
    public CommandFailedException()
    {
    }

    /// <summary>Creates an exception with a message only.</summary>
    public CommandFailedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception for a command that could not be started.</summary>
    public CommandFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The failed command's result, or null when it never started.</summary>
    public CommandResult? Result { get; }

    private static string Describe(CommandResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        string stderr = result.StandardError.Trim();
        return $"Command `{result.CommandLine}` failed with exit code {result.ExitCode}: " +
            (stderr.Length == 0 ? "(no stderr)" : stderr);
    }
}

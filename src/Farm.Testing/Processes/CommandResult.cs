namespace Farm.Testing.Processes;

/// <summary>The outcome of one finished command: its printable command line, exit code and captured output.</summary>
public sealed record CommandResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>True when the command exited with code 0.</summary>
    public bool Succeeded => ExitCode == 0;
}

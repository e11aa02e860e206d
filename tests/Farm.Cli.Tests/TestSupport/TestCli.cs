namespace Farm.Cli.Tests.TestSupport;

/// <summary>Runs farmctl in-process with a cancellation token (for --watch) and captures what it prints.</summary>
internal static class TestCli
{
    public static async Task<CliRun> RunAsync(string[] args, TextWriter? output = null, CancellationToken cancellationToken = default)
    {
        using var ownOutput = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter { NewLine = "\n" };
        var writer = output ?? ownOutput;
        var context = new CliContext(writer, error, CliTerminal.Redirected, TimeProvider.System);

        // A token that can be cancelled keeps System.CommandLine from hooking the test process's signals.
        using var never = new CancellationTokenSource();
        int code = await CliApp.RunAsync(args, context, cancellationToken.CanBeCanceled ? cancellationToken : never.Token);
        return new CliRun(code, writer.ToString() ?? "", error.ToString());
    }
}

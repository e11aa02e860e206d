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

    /// <summary>
    /// Runs farmctl (with the default timeout) with a temporary key file holding <paramref name="key"/>: <paramref name="args"/>
    /// gets its path. The file is deleted afterwards; its path is returned for the messages that name it.
    /// </summary>
    public static async Task<(CliRun Run, string KeyFile)> RunWithKeyFileAsync(string key, Func<string, string[]> args)
    {
        string keyFile = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(keyFile, key);
            return (await RunAsync(args(keyFile)).WithTimeout(), keyFile);
        }
        finally
        {
            File.Delete(keyFile);
        }
    }
}

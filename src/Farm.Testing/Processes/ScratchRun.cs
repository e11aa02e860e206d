namespace Farm.Testing.Processes;

/// <summary>The end of a test that runs processes (farmd, tools) in a scratch folder of its own.</summary>
public static class ScratchRun
{
    /// <summary>For a test that failed: the output of each process, under its name, to <paramref name="writeLine"/> (the test's log).</summary>
    public static void WriteOutputs<T>(IEnumerable<T> processes, Func<T, string> output, Action<string> writeLine)
        where T : notnull
    {
        ArgumentNullException.ThrowIfNull(processes);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(writeLine);
        foreach (var p in processes)
        {
            writeLine($"--- {p}:\n{output(p)}");
        }
    }

    /// <summary>Stops every process of <paramref name="processes"/>, then deletes <paramref name="dir"/> with all it holds.</summary>
    public static async Task EndAsync(IEnumerable<IAsyncDisposable> processes, string dir)
    {
        await StopAsync(processes);
        Directory.Delete(dir, recursive: true);
    }

    /// <summary>Stops every process of <paramref name="processes"/>, one after the other (a test class that deletes its folder itself).</summary>
    public static async Task StopAsync(IEnumerable<IAsyncDisposable> processes)
    {
        ArgumentNullException.ThrowIfNull(processes);
        foreach (var p in processes)
        {
            await p.DisposeAsync();
        }
    }
}

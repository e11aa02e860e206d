namespace Farm.Bench.Failover;

/// <summary>
/// An <c>ip -n NS -batch -</c> process started ahead of time, so a link goes down the moment the command line is
/// written (spawning <c>ip</c> on a busy machine takes up to a few hundred milliseconds, which would blur the failure
/// instant). Each change is followed by <c>link show</c>, whose output tells when the change was made.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class LinkControl : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder errors = new();
    private TaskCompletionSource<string> nextLine = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LinkControl(Process process) => this.process = process;

    public static LinkControl Start(NetworkNamespace ns)
    {
        var info = new ProcessStartInfo(ToolLocator.Require("ip", "iproute2"))
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in (string[])["-n", ns.Name, "-o", "-batch", "-"])
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        var control = new LinkControl(process);
        process.OutputDataReceived += (_, e) => control.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            lock (control.errors)
            {
                control.errors.AppendLine(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return control;
    }

    /// <summary>Sets <paramref name="device"/> down or up and returns once <c>ip</c> has done it.</summary>
    public async Task SetAsync(string device, bool up, CancellationToken cancellationToken)
    {
        TaskCompletionSource<string> line;
        lock (process)
        {
            line = nextLine = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        await process.StandardInput.WriteAsync($"link set dev {device} {(up ? "up" : "down")}\nlink show dev {device}\n".AsMemory(), cancellationToken);
        await process.StandardInput.FlushAsync(cancellationToken);
        try
        {
            string shown = await line.Task.WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System, cancellationToken);
            // "5: n0@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu ...": the admin state is the UP flag.
            int open = shown.IndexOf('<', StringComparison.Ordinal);
            int close = shown.IndexOf('>', StringComparison.Ordinal);
            bool isUp = open >= 0 && close > open && shown[(open + 1)..close].Split(',').Contains("UP");
            if (isUp != up)
            {
                throw new InvalidOperationException($"ip did not set {device} {(up ? "up" : "down")}: {shown}");
            }
        }
        catch (TimeoutException)
        {
            string text;
            lock (errors)
            {
                text = errors.ToString();
            }

            throw new InvalidOperationException($"ip -batch did not answer within 10 s: {text}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            process.StandardInput.Close();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5), TimeProvider.System);
        }
        catch (TimeoutException)
        {
            process.Kill();
        }
        finally
        {
            process.Dispose();
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (process)
        {
            nextLine.TrySetResult(line);
        }
    }
}

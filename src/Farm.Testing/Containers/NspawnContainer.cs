namespace Farm.Testing.Containers;

/// <summary>
/// A Debian container booted with real systemd by <c>systemd-nspawn -b</c>, inside a network namespace of a test
/// topology (the container gets no network of its own and none on the host). Its root file system is a read-only tree
/// with a throw-away overlay (<c>--volatile=overlay</c>), so every boot starts from the same clean machine. Commands run
/// inside it through <c>nsenter</c> into its namespaces. Disposing powers it off, or kills it after 15 s.
/// </summary>
/// <remarks>
/// No systemd-machined is needed on the host (<c>--register=no --keep-unit</c>). On a host with the hybrid cgroup layout
/// (cgroup v1 controllers, cgroup2 at <c>/sys/fs/cgroup/unified</c>) the container gets a cgroup2 subtree of its own,
/// <c>/sys/fs/cgroup/unified/farmt-PID-NAME</c>, and boots with the unified hierarchy: without it the container's systemd
/// cannot kill a unit's control group ("Failed to kill control group …: Input/output error"), and what a unit's
/// <c>KillMode=</c> does could not be tested. Named <c>farmt-PID-NAME</c>: the namespace sweep of a later run kills a
/// container whose test process died (it lives in a <c>farmt-</c> namespace), and <see cref="SweepLeftovers"/> removes
/// the empty cgroup and the empty folder nspawn keeps on the host.
/// </remarks>
[SupportedOSPlatform("linux")]
public sealed class NspawnContainer : IAsyncDisposable
{
    private const string PropagateFolder = "/run/systemd/nspawn/propagate";
    private const string HybridUnifiedCgroup = "/sys/fs/cgroup/unified";
    private const string CleanPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private static readonly ExitSweep<NspawnContainer> Running = new(container =>
    {
        container.KillNow();
        RemovePropagateFolder(container.Machine);
        RemoveCgroup(container.Machine);
    });

    private readonly Process nspawn;
    private readonly StringBuilder console = new();
    private readonly CommandRunner runner;

    private NspawnContainer(string machine, Process nspawn, CommandRunner runner)
    {
        Machine = machine;
        this.nspawn = nspawn;
        this.runner = runner;
    }

    /// <summary>The machine name, <c>farmt-PID-NAME</c>.</summary>
    public string Machine { get; }

    /// <summary>The host pid of the container's init (systemd); commands enter its namespaces.</summary>
    public int Leader { get; private set; }

    /// <summary>What the container wrote to its console (boot messages; for failure reports).</summary>
    public string Console
    {
        get
        {
            lock (console)
            {
                return console.ToString();
            }
        }
    }

    /// <summary>
    /// Boots <paramref name="rootFileSystem"/> as host <paramref name="hostName"/> inside <paramref name="network"/> and
    /// waits until systemd reports the system running (or degraded).
    /// </summary>
    /// <param name="readOnlyBinds">Host folders to show inside, read-only: (host path, container path).</param>
    public static async Task<NspawnContainer> BootAsync(
        string rootFileSystem,
        string hostName,
        NetworkNamespace network,
        IReadOnlyList<(string Host, string Container)> readOnlyBinds,
        TimeSpan timeout,
        CommandRunner? runner = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(readOnlyBinds);
        runner ??= CommandRunner.Default;
        SweepLeftovers();
        string machine = string.Create(CultureInfo.InvariantCulture, $"{NetworkNamespace.NamePrefix}{Environment.ProcessId}-{hostName}");
        string? cgroup = CreateCgroup(machine);

        // With a cgroup of its own, a shell moves itself there and becomes nspawn: the container starts inside it.
        var info = new ProcessStartInfo(cgroup is null ? ToolLocator.Require("systemd-nspawn", "systemd-container") : "/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        if (cgroup is not null)
        {
            info.Environment["SYSTEMD_NSPAWN_UNIFIED_HIERARCHY"] = "1";
            foreach (string argument in (string[])["-c", "echo $$ >\"$0/cgroup.procs\" && exec \"$@\"", cgroup, ToolLocator.Require("systemd-nspawn", "systemd-container")])
            {
                info.ArgumentList.Add(argument);
            }
        }

        // --private-network with a namespace path: the container joins that namespace and, being "private", may write
        // /proc/sys/net there (farmd sets arp_ignore/arp_announce), which nspawn keeps read-only otherwise.
        string[] arguments =
        [
            "--quiet", "--boot", "--directory", rootFileSystem, "--volatile=overlay", "--register=no", "--keep-unit",
            "--machine", machine, "--hostname", hostName, "--network-namespace-path", network.FilePath, "--private-network",
            "--capability=CAP_NET_ADMIN", "--console=read-only",
            .. readOnlyBinds.Select(b => $"--bind-ro={b.Host}:{b.Container}"),
        ];
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Remove("NOTIFY_SOCKET");
        var process = new Process { StartInfo = info };
        var container = new NspawnContainer(machine, process, runner);
        process.OutputDataReceived += (_, e) => container.Append(e.Data);
        process.ErrorDataReceived += (_, e) => container.Append(e.Data);
        process.Start();
        Running.Add(container);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await container.WaitForBootAsync(timeout, cancellationToken);
            return container;
        }
        catch
        {
            await container.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <paramref name="script"/> with <c>sh -c</c> inside the container (clean environment); returns its result whatever the exit code.</summary>
    public Task<CommandResult> ExecUncheckedAsync(string script, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(script);
        ObjectDisposedException.ThrowIf(!Running.Contains(this), this);
        return runner.RunUncheckedAsync(
            ToolLocator.Require("nsenter", "util-linux"),
            ["-t", Leader.ToString(CultureInfo.InvariantCulture), "-m", "-u", "-i", "-n", "-p", "--", "env", "-i", CleanPath, "LANG=C.UTF-8", "sh", "-c", script],
            timeout: timeout,
            cancellationToken: cancellationToken);
    }

    /// <summary>Runs <paramref name="script"/> inside the container and returns its standard output; throws unless it exits with 0.</summary>
    /// <exception cref="CommandFailedException">The script failed (the message holds its output).</exception>
    public async Task<string> ExecAsync(string script, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var result = await ExecUncheckedAsync(script, timeout, cancellationToken);
        return result.Succeeded ? result.StandardOutput : throw new CommandFailedException(result with { CommandLine = $"[{Machine}] {script}" });
    }

    /// <summary>Powers the container off (SIGTERM to nspawn: systemd shuts down); kills it when that takes over 15 s.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!Running.Remove(this))
        {
            return;
        }

        try
        {
            if (!nspawn.HasExited)
            {
                await runner.RunUncheckedAsync("kill", ["-TERM", nspawn.Id.ToString(CultureInfo.InvariantCulture)]);
                try
                {
                    await nspawn.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
                }
                catch (TimeoutException)
                {
                    KillNow();
                    await nspawn.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                }
            }
        }
        finally
        {
            nspawn.Dispose();
            RemovePropagateFolder(Machine);

            // The last processes of the container may take a moment to leave its cgroup.
            for (int attempt = 0; attempt < 10 && !RemoveCgroup(Machine); attempt++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), runner.TimeProvider);
            }
        }
    }

    /// <inheritdoc />
    public override string ToString() => Machine;

    /// <summary>
    /// Removes what containers of test processes that are gone left on the host: nspawn's empty folder, and the
    /// container's cgroup once empty (the namespace sweep killed its processes).
    /// </summary>
    public static void SweepLeftovers()
    {
        foreach (string parent in new[] { PropagateFolder, HybridUnifiedCgroup })
        {
            if (!Directory.Exists(parent))
            {
                continue;
            }

            foreach (string folder in Directory.GetDirectories(parent, NetworkNamespace.NamePrefix + "*"))
            {
                string machine = Path.GetFileName(folder);
                string[] parts = machine[NetworkNamespace.NamePrefix.Length..].Split('-', 2);
                if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) &&
                    pid != Environment.ProcessId && !Directory.Exists(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}")))
                {
                    RemovePropagateFolder(machine);
                    RemoveCgroup(machine);
                }
            }
        }
    }

    /// <summary>The container's cgroup2 folder on a hybrid host (created empty), or null when the host has no such layout.</summary>
    private static string? CreateCgroup(string machine)
    {
        if (!File.Exists(Path.Combine(HybridUnifiedCgroup, "cgroup.procs")))
        {
            return null; // not the hybrid layout: nspawn picks the container's hierarchy by itself
        }

        string path = Path.Combine(HybridUnifiedCgroup, machine);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Removes the container's cgroup and the ones its systemd made inside, deepest first; false while some are busy.</summary>
    private static bool RemoveCgroup(string machine)
    {
        string path = Path.Combine(HybridUnifiedCgroup, machine);
        if (!Directory.Exists(path))
        {
            return true;
        }

        try
        {
            foreach (string dir in Directory.EnumerateDirectories(path, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).Append(path))
            {
                Directory.Delete(dir); // cgroup folders hold only kernel files: rmdir, not a recursive delete
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // still busy (a process lives on): try again, or the next run's sweep does
        }
    }

    private static void RemovePropagateFolder(string machine)
    {
        try
        {
            // Only an empty folder: nspawn's own, once its container is gone.
            Directory.Delete(Path.Combine(PropagateFolder, machine), recursive: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone already, or still in use.
        }
    }

    private async Task WaitForBootAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var time = runner.TimeProvider;
        long start = time.GetTimestamp();
        string ours = new FileInfo("/proc/self/ns/pid").LinkTarget ?? string.Empty;
        string state = "not started";
        while (time.GetElapsedTime(start) < timeout)
        {
            if (nspawn.HasExited)
            {
                throw new InvalidOperationException($"systemd-nspawn {Machine} exited with {nspawn.ExitCode}:\n{Console}");
            }

            // The container's init is the child of nspawn that lives in another pid namespace.
            if (Leader == 0)
            {
                Leader = ChildrenOf(nspawn.Id).FirstOrDefault(pid => (new FileInfo($"/proc/{pid}/ns/pid").LinkTarget ?? ours) != ours);
            }

            if (Leader != 0)
            {
                var result = await ExecUncheckedAsync("systemctl is-system-running", TimeSpan.FromSeconds(10), cancellationToken);
                state = result.StandardOutput.Trim();
                if (state is "running" or "degraded")
                {
                    return;
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken);
        }

        throw new TimeoutException($"{Machine} did not boot within {timeout.TotalSeconds:0} s (systemd says '{state}'):\n{Console}");
    }

    private static IEnumerable<int> ChildrenOf(int parent)
    {
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // exited meanwhile
            }

            // "pid (comm) state ppid ...": the command may hold spaces and parentheses, the last ')' ends it.
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields.Length > 1 && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int ppid) && ppid == parent)
            {
                yield return pid;
            }
        }
    }

    private void KillNow()
    {
        try
        {
            // SIGKILL to a pid namespace's init ends every process of the container; nspawn then exits by itself.
            if (Leader != 0)
            {
                Process.GetProcessById(Leader).Kill();
            }

            if (!nspawn.HasExited)
            {
                nspawn.Kill();
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (console)
        {
            console.AppendLine(line);
        }
    }
}

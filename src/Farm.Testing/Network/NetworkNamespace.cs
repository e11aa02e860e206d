using Farm.Native.Linux;

namespace Farm.Testing.Network;

/// <summary>
/// A Linux network namespace owned by one test run: named <c>farmt-PID-N</c>, deleted on dispose, and swept
/// by later runs when its creating process is gone. Commands and .NET code can run inside it.
/// </summary>
/// <remarks>
/// Nothing here touches the root namespace: commands either run via <c>ip -n NAME</c> / <c>ip netns exec NAME</c>
/// or on a thread that has called setns() into this namespace. Addresses added through this type are checked by
/// <see cref="TestAddresses"/>.
/// </remarks>
[SupportedOSPlatform("linux")]
public sealed class NetworkNamespace : IAsyncDisposable, IDisposable
{
    /// <summary>Prefix of every namespace the harness creates; <c>ip netns list | grep farmt-</c> finds leftovers.</summary>
    public const string NamePrefix = "farmt-";

    private const string NamespaceFolder = "/run/netns";

    // Names created by this process and not yet deleted: the exit hook deletes them, and the sweep must spare them.
    private static readonly ConcurrentDictionary<string, bool> Owned = new(StringComparer.Ordinal);
    private static int counter;
    private static int exitHookInstalled;

    private readonly CommandRunner runner;
    private readonly string ip;
    private int disposed;

    private NetworkNamespace(string name, string ip, CommandRunner runner)
    {
        Name = name;
        this.ip = ip;
        this.runner = runner;
    }

    /// <summary>The namespace's name, as <c>ip netns</c> shows it.</summary>
    public string Name { get; }

    /// <summary>The namespace's bind-mount file, which setns() opens.</summary>
    public string FilePath => Path.Combine(NamespaceFolder, Name);

    /// <summary>Creates a fresh namespace (loopback down, no other interfaces), after sweeping leftovers of dead runs.</summary>
    /// <exception cref="CommandFailedException">The namespace could not be created (usually: not root).</exception>
    public static async Task<NetworkNamespace> CreateAsync(CommandRunner? runner = null, CancellationToken cancellationToken = default)
    {
        runner ??= CommandRunner.Default;
        string ip = ToolLocator.Require("ip", "iproute2");
        await SweepLeftoversAsync(runner, cancellationToken);
        InstallExitHook();

        string name = string.Create(
            CultureInfo.InvariantCulture,
            $"{NamePrefix}{Environment.ProcessId}-{Interlocked.Increment(ref counter)}");

        // Registered before creation, so a concurrent sweep in this process never mistakes it for a leftover.
        Owned[name] = true;
        try
        {
            await runner.RunAsync(ip, ["netns", "add", name], cancellationToken: cancellationToken);
        }
        catch
        {
            // A cancelled or timed-out `ip netns add` may still have created it; never leave it unowned behind.
            await runner.RunUncheckedAsync(ip, ["netns", "delete", name], cancellationToken: CancellationToken.None);
            Owned.TryRemove(name, out _);
            throw;
        }

        return new NetworkNamespace(name, ip, runner);
    }

    /// <summary>
    /// Deletes <c>farmt-PID-*</c> namespaces whose process no longer exists (a killed test run), and those carrying
    /// this process's pid that this process did not create (a dead run whose pid was reused). Returns how many it deleted.
    /// </summary>
    public static async Task<int> SweepLeftoversAsync(CommandRunner? runner = null, CancellationToken cancellationToken = default)
    {
        runner ??= CommandRunner.Default;
        string ip = ToolLocator.Require("ip", "iproute2");
        var list = await runner.RunAsync(ip, ["netns", "list"], cancellationToken: cancellationToken);
        int deleted = 0;
        foreach (string line in list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Lines look like "farmt-123-4 (id: 0)" or just "farmt-123-4".
            string name = line.Split(' ', 2)[0];
            if (!IsLeftover(name))
            {
                continue;
            }

            // Another sweeper may win the race; a failed delete of a vanished namespace is fine.
            await KillProcessesInsideAsync(runner, ip, name, cancellationToken);
            var result = await runner.RunUncheckedAsync(ip, ["netns", "delete", name], cancellationToken: cancellationToken);
            if (result.Succeeded)
            {
                deleted++;
            }
        }

        return deleted;
    }

    /// <summary>Runs <c>ip -n NAME ARGS</c>: an iproute2 command applied inside this namespace.</summary>
    public Task<CommandResult> IpAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        return runner.RunAsync(ip, ["-n", Name, .. arguments], cancellationToken: cancellationToken);
    }

    /// <summary>Runs a program inside this namespace (<c>ip netns exec</c>) and throws unless it exits with 0.</summary>
    public Task<CommandResult> ExecAsync(
        string fileName,
        IReadOnlyList<string> arguments,
        string? standardInput = null,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        return runner.RunAsync(ip, ["netns", "exec", Name, fileName, .. arguments], standardInput, timeout, cancellationToken);
    }

    /// <summary>Runs <c>nft ARGS</c> inside this namespace, with <paramref name="standardInput"/> for <c>-f -</c> batches.</summary>
    public Task<CommandResult> NftAsync(IReadOnlyList<string> arguments, string? standardInput = null, CancellationToken cancellationToken = default) =>
        ExecAsync(ToolLocator.Require("nft", "nftables"), arguments, standardInput, cancellationToken: cancellationToken);

    /// <summary>Applies an nft script as one atomic batch (<c>nft -f -</c>); returns nft's result.</summary>
    public Task<CommandResult> ApplyNftAsync(string script, CancellationToken cancellationToken = default) =>
        NftAsync(["-f", "-"], script, cancellationToken);

    /// <summary>Sets a link of this namespace up.</summary>
    public Task SetLinkUpAsync(string device, CancellationToken cancellationToken = default) =>
        IpAsync(["link", "set", "dev", device, "up"], cancellationToken);

    /// <summary>Adds a test address (checked by <see cref="TestAddresses"/>) to a device of this namespace; IPv6 skips DAD so it is usable at once.</summary>
    public Task AddAddressAsync(string device, IPAddress address, int prefixLength, CancellationToken cancellationToken = default)
    {
        // Both the address and its whole on-link prefix must be test space: the prefix becomes a route.
        TestAddresses.Require(address);
        TestAddresses.Require(NetworkOf(address, prefixLength));
        string cidr = string.Create(CultureInfo.InvariantCulture, $"{address}/{prefixLength}");
        return address.AddressFamily == AddressFamily.InterNetworkV6
            ? IpAsync(["address", "add", cidr, "dev", device, "nodad"], cancellationToken)
            : IpAsync(["address", "add", cidr, "dev", device], cancellationToken);
    }

    /// <summary>
    /// Creates a veth pair whose ends are born directly in their namespaces: <paramref name="name"/> here and
    /// <paramref name="peerName"/> in <paramref name="peer"/>. Neither end ever exists in the root namespace.
    /// Both ends start down.
    /// </summary>
    public Task AddVethPairAsync(string name, NetworkNamespace peer, string peerName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        RequireInterfaceName(name);
        RequireInterfaceName(peerName);
        return IpAsync(["link", "add", name, "type", "veth", "peer", "name", peerName, "netns", peer.Name], cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="action"/> on a new thread that has entered this namespace. Sockets created inside stay
    /// in this namespace for their whole life, so a test can create them here and use them from any thread.
    /// </summary>
    public Task<T> RunAsync<T>(Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        string path = FilePath;

        // A dedicated thread, never a pool thread: setns() changes the calling OS thread, and a pool thread
        // would carry the namespace into unrelated work.
        var thread = new Thread(() => RunInside(path, action, completion))
        {
            IsBackground = true,
            Name = "netns " + Name,
        };
        thread.Start();
        return completion.Task;
    }

    /// <summary>Runs <paramref name="action"/> on a new thread that has entered this namespace.</summary>
    public Task RunAsync(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return RunAsync(() =>
        {
            action();
            return true;
        });
    }

    /// <summary>Deletes the namespace. Sockets still open inside keep the kernel object alive until they close.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        try
        {
            // Deleting a namespace does not end the processes in it (an app a daemon started, a daemon a test
            // forgot): they would live on, unreachable. End them first.
            await KillProcessesInsideAsync(runner, ip, Name, CancellationToken.None);
            await runner.RunAsync(ip, ["netns", "delete", Name]);
        }
        finally
        {
            Owned.TryRemove(Name, out _);
        }
    }

    /// <summary>SIGKILLs every process whose network namespace is <paramref name="name"/> (best effort).</summary>
    private static async Task KillProcessesInsideAsync(CommandRunner runner, string ip, string name, CancellationToken cancellationToken)
    {
        var pids = await runner.RunUncheckedAsync(ip, ["netns", "pids", name], cancellationToken: cancellationToken);
        var list = pids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid != Environment.ProcessId)
            .ToList();
        if (list.Count > 0)
        {
            await runner.RunUncheckedAsync("kill", ["-KILL", .. list], cancellationToken: cancellationToken);
        }
    }

    /// <summary>Deletes the namespace (blocking; prefer <see cref="DisposeAsync"/>).</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override string ToString() => Name;

    private static void RequireInterfaceName(string name)
    {
        // IFNAMSIZ is 16 including the terminating zero; ip would otherwise fail with a vaguer message.
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > 15 || name.Any(c => c is '/' or ':' || char.IsWhiteSpace(c)))
        {
            throw new ArgumentException($"'{name}' is not a valid interface name (at most 15 characters, no '/', ':' or spaces).", nameof(name));
        }
    }

    private static IPNetwork NetworkOf(IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, address.GetAddressBytes().Length * 8);
        // IPNetwork insists on a base address with zero host bits; mask them off first.
        byte[] bytes = address.GetAddressBytes();
        for (int bit = prefixLength; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return new IPNetwork(new IPAddress(bytes), prefixLength);
    }

    private static void RunInside<T>(string path, Func<T> action, TaskCompletionSource<T> completion)
    {
        try
        {
            using var home = LinuxNamespaces.OpenCurrentThreadNetwork();
            using (var target = LinuxNamespaces.OpenNetwork(path))
            {
                LinuxNamespaces.EnterNetwork(target);
            }

            try
            {
                completion.SetResult(action());
            }
            catch (Exception e)
            {
                completion.SetException(e);
            }

            // The thread ends right after; going home is hygiene, and its failure must not hide the action's outcome.
            try
            {
                LinuxNamespaces.EnterNetwork(home);
            }
            catch (IOException)
            {
            }
        }
        catch (Exception e)
        {
            // Opening or entering the namespace failed: the action never ran.
            completion.TrySetException(e);
        }
    }

    private static bool IsLeftover(string name)
    {
        if (!name.StartsWith(NamePrefix, StringComparison.Ordinal))
        {
            return false;
        }

        string[] parts = name[NamePrefix.Length..].Split('-');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return false; // not of our making: leave it alone
        }

        return pid == Environment.ProcessId
            ? !Owned.ContainsKey(name)
            : !Directory.Exists(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}"));
    }

    private static void InstallExitHook()
    {
        if (Interlocked.Exchange(ref exitHookInstalled, 1) != 0)
        {
            return;
        }

        // A test that forgot to dispose (or a runner that exits early) still leaves nothing behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            string? ip = ToolLocator.Find("ip");
            if (ip is null)
            {
                return;
            }

            foreach (string name in Owned.Keys)
            {
                try
                {
                    using var kill = Process.Start(new ProcessStartInfo("sh", ["-c", $"{ip} netns pids {name} | xargs -r kill -KILL"]) { UseShellExecute = false });
                    kill?.WaitForExit(TimeSpan.FromSeconds(5));
                    using var process = Process.Start(new ProcessStartInfo(ip, ["netns", "delete", name]) { UseShellExecute = false });
                    process?.WaitForExit(TimeSpan.FromSeconds(5));
                }
                catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // Best effort at exit; the next run's sweep removes what is left.
                }
            }
        };
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;

namespace Farm.DataPlane.Addressing;

/// <summary>
/// <see cref="ILinkConfigurator"/> through the <c>ip</c> and <c>bridge</c> tools (iproute2). They only run at module
/// start and stop, never on the hot path. A child process inherits the network namespace of the thread that starts it.
/// </summary>
internal sealed class IpCommandLinkConfigurator : ILinkConfigurator
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly string[] ToolFolders = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];
    private static readonly string[] AddressAbsent = ["address not found", "Cannot assign requested address"];
    private static readonly string[] EntryAbsent = ["No such file or directory"];
    private readonly string ip;
    private readonly string bridge;

    /// <summary>Creates the configurator, finding the tools in PATH or the sbin folders.</summary>
    public IpCommandLinkConfigurator()
    {
        ip = Locate("ip");
        bridge = Locate("bridge");
    }

    /// <inheritdoc />
    public bool HasAddress(string device, IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        string json = Run(ip, ["-j", "address", "show", "dev", device]);
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray()
            .Where(link => link.TryGetProperty("addr_info", out _))
            .SelectMany(link => link.GetProperty("addr_info").EnumerateArray())
            .Any(info => IPAddress.TryParse(info.GetProperty("local").GetString(), out var a) && a.Equals(address));
    }

    /// <inheritdoc />
    public void AddAddress(string device, IPAddress address, int prefixLength) =>
        Run(ip, ["address", "add", Cidr(address, prefixLength), "dev", device, .. address.AddressFamily == AddressFamily.InterNetworkV6 ? (string[])["nodad"] : []]);

    /// <inheritdoc />
    /// <remarks>
    /// An address that is not there is removed already: after a crash and a reboot the recorded VIP is gone, and the
    /// next start's undo of the crashed run must not fail on it. iproute2 says so as "Error: ipv4: Address not found.",
    /// "Error: ipv6: address not found." (kernels with extended acks) or "Cannot assign requested address" (older).
    /// </remarks>
    public void RemoveAddress(string device, IPAddress address, int prefixLength) =>
        Run(ip, ["address", "del", Cidr(address, prefixLength), "dev", device], AddressAbsent);

    /// <inheritdoc />
    public bool HasUnicastAddress(string device, PhysicalAddress mac)
    {
        string wanted = VirtualMac.Format(mac);
        return Run(bridge, ["fdb", "show", "dev", device])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Any(line => line.StartsWith(wanted + " ", StringComparison.OrdinalIgnoreCase) && line.Contains(" self", StringComparison.Ordinal));
    }

    /// <inheritdoc />
    public void AddUnicastAddress(string device, PhysicalAddress mac) =>
        Run(bridge, ["fdb", "add", VirtualMac.Format(mac), "dev", device, "self", "permanent"]);

    /// <inheritdoc />
    public void RemoveUnicastAddress(string device, PhysicalAddress mac) =>
        Run(bridge, ["fdb", "del", VirtualMac.Format(mac), "dev", device, "self"], EntryAbsent);

    /// <inheritdoc />
    public bool IsPromiscuous(string device)
    {
        using var document = JsonDocument.Parse(Run(ip, ["-j", "link", "show", "dev", device]));
        return document.RootElement.EnumerateArray()
            .Any(link => link.TryGetProperty("flags", out var flags) && flags.EnumerateArray().Any(f => f.GetString() == "PROMISC"));
    }

    /// <inheritdoc />
    public void SetPromiscuous(string device, bool enabled) =>
        Run(ip, ["link", "set", "dev", device, "promisc", enabled ? "on" : "off"]);

    private static string Cidr(IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        return string.Create(CultureInfo.InvariantCulture, $"{address}/{prefixLength}");
    }

    /// <summary>Runs the tool; a non-zero exit whose error output contains one of <paramref name="tolerated"/> (case-insensitive) counts as success.</summary>
    private static string Run(string file, IReadOnlyList<string> arguments, IReadOnlyList<string>? tolerated = null)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        // Process.Start forks on this thread, so the tool runs in this thread's network namespace.
        using var process = Process.Start(start) ?? throw new IOException($"Could not start {file}.");

        // Both pipes are read at once (a full one would block the tool), with blocking reads only: an asynchronous read
        // waited for here needs a free thread-pool thread to complete, and a starved pool held a module's start, and
        // with it every lease, for 1.9 s (ModuleBundleTests, CI, 2026-12-05). A dedicated thread reads the error output.
        var stderr = Task.Factory.StartNew(process.StandardError.ReadToEnd, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within {Timeout.TotalSeconds} s.");
        }

        string error = stderr.GetAwaiter().GetResult();
        if (process.ExitCode == 0 || (tolerated?.Any(t => error.Contains(t, StringComparison.OrdinalIgnoreCase)) ?? false))
        {
            return stdout;
        }

        throw new IOException($"{file} {string.Join(' ', arguments)} failed with exit code {process.ExitCode}: {error.Trim()}");
    }

    private static string Locate(string tool) =>
        ToolFolders.Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists)
        ?? throw new FileNotFoundException($"'{tool}' was not found; install iproute2.", tool);
}

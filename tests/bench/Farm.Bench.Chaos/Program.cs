using System.Runtime.InteropServices;
using Farm.Bench.Chaos;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// Chaos soak (issue 18, item 6): see tests/bench/chaos/run.sh.
const string Usage = """
    usage: tests/bench/chaos/run.sh --minutes N [--seed S] [--out FILE=tests/bench/results/chaos.md]
      A 5-node farm in network namespaces under TCP and UDP client load (client_ip and client_ip_port, IPv4 and IPv6);
      random faults one at a time or two at once for N minutes: kill -9 of farmd, SIGSTOP/SIGCONT, link down/up,
      partition (nft), 20% loss on one heartbeat LAN, app crash, hung checker script, flapping checker, farmd restart.
      Checks all along: never two kernels accepting one bucket while both leases are valid; every client served again
      within detection + 2 intervals after a fault ends; one farm at the end; nothing left behind. Writes a markdown
      report (counts per fault kind, every violation with its time). Exit code 0 pass, 1 violations, 2 usage, 130 Ctrl-C.
      --seed S replays the same fault choices (timings still vary). Needs root, nft, ip.
    """;
var commandLine = new BenchCommandLine(args);
if (commandLine.Refusal(Usage, "network namespaces, nftables") is int exit)
{
    return exit;
}

int minutes;
int seed;
try
{
    minutes = int.Parse(commandLine.Option("--minutes") ?? throw new FormatException("--minutes N is required"), CultureInfo.InvariantCulture);
    seed = commandLine.Option("--seed") is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : Random.Shared.Next();
    if (minutes < 1)
    {
        throw new FormatException("--minutes must be at least 1");
    }
}
catch (FormatException e)
{
    Console.Error.WriteLine($"Farm.Bench.Chaos: {e.Message} (see --help)");
    return 2;
}

string outFile = commandLine.Option("--out") ?? "tests/bench/results/chaos.md";
using var stop = new CancellationTokenSource();

// Ctrl-C or TERM: cancel, and let the soak end its faults and dispose the farm (namespaces, processes, files).
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);

Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outFile))!);
var runner = new SoakRunner(TimeSpan.FromMinutes(minutes), seed, Path.ChangeExtension(outFile, ".farmd.log"), line => Console.WriteLine(line));
var result = await runner.RunAsync(stop.Token);
string command = string.Create(CultureInfo.InvariantCulture, $"tests/bench/chaos/run.sh --minutes {minutes} --seed {seed}");
string report = result.ToMarkdown(command);
await File.WriteAllTextAsync(outFile, report);
if (result.OutputsFile is not null)
{
    Console.WriteLine($"farmd output written to {result.OutputsFile}");
}

Console.WriteLine(report);
Console.WriteLine($"written to {outFile}");
return result.Interrupted ? 130 : result.Passed ? 0 : 1;

void Cancel(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

using BenchmarkDotNet.Running;

// BenchmarkSwitcher lets the command line pick benchmarks: --filter '*', --list flat, --job short, ...
BenchmarkSwitcher.FromAssembly(typeof(Farm.Benchmarks.PacketLookupBenchmarks).Assembly).Run(args);
return 0;

using BenchmarkDotNet.Running;
using Qhaigc.Functions.Benchmarks;

// Micro-benchmarks of the gateway's hot pieces (bench/README.md). All of them: `dotnet run -c Release -- --filter '*'`.
BenchmarkSwitcher.FromAssembly(typeof(SseRelayBenchmarks).Assembly).Run(args);

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Qhaigc.Bench.GatewayHost;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Usage;

// The gateway's standalone host (StandaloneHost.Build, the same composition as running the Functions project) with
// one extra read-only route for the benchmark runner. Settings come from the environment (Gateway__...), as usual.
// BENCH_USAGE_STORE=memory swaps the usage table for a store that only counts (CountingUsageStore).
using var outbound = new OutboundRequestCounter();
var counting = Environment.GetEnvironmentVariable("BENCH_USAGE_STORE") == "memory" ? new CountingUsageStore() : null;
var app = StandaloneHost.Build(args, counting is null ? null : builder => builder.Services.AddSingleton<IUsageStore>(counting));
var usage = app.Services.GetRequiredService<UsageWriter>();
app.MapGet("/_bench/runtime", (bool? live) => Results.Text(RuntimeCounters.Json(outbound, usage, live == true), "application/json"));
if (Environment.GetEnvironmentVariable("BENCH_ALLOCATION_SAMPLES") == "1")
{
    var sampler = new AllocationSampler();
    app.MapGet("/_bench/allocations", (bool? reset) =>
    {
        var report = sampler.Report();
        if (reset == true)
        {
            sampler.Reset();
        }

        return Results.Text(report);
    });
}

await app.RunAsync();

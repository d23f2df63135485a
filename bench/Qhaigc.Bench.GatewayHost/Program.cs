using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Qhaigc.Bench.GatewayHost;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Usage;

// The gateway's standalone host (StandaloneHost.Build, the same composition as running the Functions project) with
// one extra read-only route for the benchmark runner. Settings come from the environment (Gateway__...), as usual.
using var outbound = new OutboundRequestCounter();
var app = StandaloneHost.Build(args);
var usage = app.Services.GetRequiredService<UsageWriter>();
app.MapGet("/_bench/runtime", () => Results.Text(RuntimeCounters.Json(outbound, usage), "application/json"));
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

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Qhaigc.Bench.GatewayHost;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Usage;

// The gateway's standalone host (StandaloneHost.Build, the same composition as running the Functions project) with
// one extra read-only route for the benchmark runner. Settings come from the environment (Gateway__...), as usual.
// BENCH_USAGE_STORE=memory swaps the usage table for a store that only counts (CountingUsageStore).
// BENCH_OUTBOUND_COUNTER=off (the scale runs, which do not read it): listening to HttpClient's metrics turns on their
// recording for every upstream call, a cost the bare proxy does not pay.
using var outbound = Environment.GetEnvironmentVariable("BENCH_OUTBOUND_COUNTER") == "off" ? null : new OutboundRequestCounter();
var counting = Environment.GetEnvironmentVariable("BENCH_USAGE_STORE") == "memory" ? new CountingUsageStore() : null;
var app = StandaloneHost.Build(args, counting is null ? null : builder => builder.Services.AddSingleton<IUsageStore>(counting));
var usage = app.Services.GetRequiredService<UsageWriter>();
// Plain RequestDelegates, as the gateway maps its own routes: a cold start measures no binder the gateway does not build.
app.MapGet("/_bench/runtime", context =>
{
    context.Response.ContentType = "application/json";
    return context.Response.WriteAsync(RuntimeCounters.Json(outbound, usage, context.Request.Query["live"] == "true"));
});
if (Environment.GetEnvironmentVariable("BENCH_ALLOCATION_SAMPLES") == "1")
{
    var sampler = new AllocationSampler();
    app.MapGet("/_bench/allocations", context =>
    {
        var report = sampler.Report();
        if (context.Request.Query["reset"] == "true")
        {
            sampler.Reset();
        }

        return context.Response.WriteAsync(report);
    });
}

await app.RunAsync();

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
await app.RunAsync();

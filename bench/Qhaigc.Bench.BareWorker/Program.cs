using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Qhaigc.Bench.Bare;

// A bare Functions worker (the csproj says why): built as the gateway's worker is built, with nothing of the gateway.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
// Nothing here protects data: no data protection key ring loaded (or created) at start, as in the gateway's worker.
foreach (var keyRing in builder.Services.Where(static d => d.ServiceType == typeof(IHostedService)
    && d.ImplementationType?.FullName == "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService").ToList())
{
    builder.Services.Remove(keyRing);
}

builder.Services.AddSingleton(new HttpMessageInvoker(BareUpstreamHandler.Create()));
await builder.Build().RunAsync();

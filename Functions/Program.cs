using Microsoft.Extensions.Hosting;
using Qhaigc.Functions.Hosting;

// Two hosting modes over one set of handlers (docs/hosting.md): the Azure Functions host starts this
// process with its worker arguments; anything else runs the same gateway on Kestrel.
if (GatewayHostMode.IsFunctionsWorker(args))
{
    await FunctionsHost.Build(args).RunAsync();
}
else
{
    await StandaloneHost.Build(args).RunAsync();
}

using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

// Every request is forwarded as it is to --upstream (YARP's direct forwarding: headers and body streamed both ways,
// responses flushed as they arrive). Kestrel and the upstream client are set up as the gateway sets up its own.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(static kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Limits.MinResponseDataRate = null;
});
builder.Services.AddHttpForwarder();
var upstream = builder.Configuration.GetValue<string>("upstream") ?? throw new InvalidOperationException("--upstream URL is required.");

var app = builder.Build();
using var client = new HttpMessageInvoker(new SocketsHttpHandler
{
    UseProxy = false,
    AllowAutoRedirect = false,
    AutomaticDecompression = DecompressionMethods.None,
    UseCookies = false,
    ActivityHeadersPropagator = null,
    ConnectTimeout = TimeSpan.FromSeconds(10),
});
var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
var config = new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromMinutes(5) };
app.Map("/{**path}", async (HttpContext context) =>
{
    var error = await forwarder.SendAsync(context, upstream, client, config, HttpTransformer.Default);
    if (error != ForwarderError.None)
    {
        Debug.WriteLine($"forwarding failed: {error}");
    }
});
await app.RunAsync();

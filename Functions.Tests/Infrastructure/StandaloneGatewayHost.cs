using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>The gateway in standalone mode on a real Kestrel socket (127.0.0.1, free port), in this process.</summary>
public sealed class StandaloneGatewayHost : IGatewayHost
{
    private readonly WebApplication _app;
    private readonly CapturingLoggerProvider _logs;
    private readonly SecretScanningLoggerProvider _scanner;

    private StandaloneGatewayHost(
        WebApplication app, Uri baseAddress, CapturingLoggerProvider logs, SecretScanningLoggerProvider scanner, TelemetryCapture? telemetry)
    {
        _app = app;
        BaseAddress = baseAddress;
        _logs = logs;
        _scanner = scanner;
        Telemetry = telemetry;
    }

    public string Mode => GatewayHosts.Standalone;

    public Uri BaseAddress { get; }

    public string CapturedLogs => _logs.Text;

    public TelemetryCapture? Telemetry { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<StandaloneGatewayHost> StartAsync(
        IReadOnlyDictionary<string, string?> settings, Action<WebApplicationBuilder>? configure = null, LogLevel minimumLevel = LogLevel.Trace)
    {
        var port = FreePort.Next();
        var url = $"http://127.0.0.1:{port}";
        var logs = new CapturingLoggerProvider();
        var scanner = new SecretScanningLoggerProvider();
        // Every test gateway exports its telemetry in memory, checked for secrets as it is; a host asked for less (a
        // soak, whose heap is measured) exports nothing, as production without an exporter.
        var telemetry = minimumLevel <= LogLevel.Information ? new TelemetryCapture() : null;
        KnownSecrets.RegisterSettings(settings);
        var app = StandaloneHost.Build(["--urls", url], builder =>
        {
            // Tests read the server's request log (and check it for secrets), which the gateway quiets by default; a
            // host asked for less (a soak, whose heap is measured) keeps production's levels.
            if (minimumLevel <= LogLevel.Information)
            {
                builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information",
                });
            }
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Logging.ClearProviders();
            builder.Logging.SetMinimumLevel(minimumLevel);
            builder.Logging.AddProvider(logs);
            builder.Logging.AddProvider(scanner);
            if (telemetry is not null)
            {
                builder.Services.AddSingleton(InMemoryTelemetry.For(telemetry));
            }

            configure?.Invoke(builder);
        });
        if (telemetry is not null)
        {
            var meters = app.Services.GetService<MeterProvider>();
            telemetry.FlushMetrics = () => meters?.ForceFlush();
        }

        await app.StartAsync();
        return new StandaloneGatewayHost(app, new Uri(url + "/"), logs, scanner, telemetry);
    }

    /// <summary>Stops the gateway; fails the test if it logged a key, an upstream or admin secret, or a prompt canary.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_scanner.Violations is [_, ..] violations)
        {
            Assert.Fail($"The gateway logged {violations.Count} line(s) with a secret or prompt text:\n{string.Join('\n', violations.Take(5))}");
        }

        if (Telemetry?.Violations is [_, ..] exported)
        {
            Assert.Fail($"The gateway exported {exported.Count} span(s), metric point(s) or log record(s) with a secret or prompt text:\n" +
                        string.Join('\n', exported.Take(5)));
        }
    }
}

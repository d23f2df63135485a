using Azure.Identity;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Telemetry;

namespace Qhaigc.Functions.Tests.Telemetry;

/// <summary>Where telemetry goes, from the standard variables alone (docs/telemetry.md).</summary>
public sealed class TelemetrySetupTests
{
    [Fact]
    public async Task Gateway_RegistersNoTelemetryPipeline_WhenNothingIsConfigured()
    {
        // Arrange
        await using var app = StandaloneHost.Build(["--urls", "http://127.0.0.1:0"]);

        // Act
        var tracer = app.Services.GetService<TracerProvider>();
        var meter = app.Services.GetService<MeterProvider>();

        // Assert: no provider, so nothing of this gateway listens to its source and meter.
        Assert.Null(tracer);
        Assert.Null(meter);
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")]
    [InlineData("APPLICATIONINSIGHTS_CONNECTION_STRING", "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1/")]
    public async Task Gateway_RegistersTheTelemetryPipeline_WhenAnExporterIsConfigured(string name, string value)
    {
        // Arrange
        await using var app = StandaloneHost.Build(["--urls", "http://127.0.0.1:0", $"--{name}={value}"]);

        // Act
        var tracer = app.Services.GetService<TracerProvider>();
        var meter = app.Services.GetService<MeterProvider>();

        // Assert
        Assert.NotNull(tracer);
        Assert.NotNull(meter);
    }

    [Fact]
    public void FunctionsMode_RegistersTheTelemetryPipeline_WhenAnExporterIsConfigured()
    {
        // Arrange
        var builder = FunctionsHost.CreateBuilder([]);
        var services = new ServiceCollection();

        // Act
        var configured = TelemetryServiceCollectionExtensions.IsConfigured(services, builder.Configuration);
        builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4318";
        services.AddGatewayTelemetry(builder.Configuration, functionsWorker: true);

        // Assert: not configured by default; with the variable, the worker's pipeline (Functions defaults included).
        Assert.False(configured);
        Assert.Contains(services, static d => d.ServiceType == typeof(TelemetryGauges) || d.ImplementationType == typeof(TelemetryGauges));
    }

    [Theory]
    [InlineData("ClientId=11111111-2222-3333-4444-555555555555;Authorization=AAD", true)]
    [InlineData("Authorization=AAD", true)]
    [InlineData("", false)]
    [InlineData("ClientId=11111111-2222-3333-4444-555555555555", false)]
    public void AppInsightsCredential_IsTheManagedIdentity_WhenTheAuthenticationStringSaysAad(string authentication, bool managedIdentity)
    {
        // Act
        var credential = TelemetryServiceCollectionExtensions.CredentialFor(authentication);

        // Assert
        if (managedIdentity)
        {
            Assert.IsType<ManagedIdentityCredential>(credential);
        }
        else
        {
            Assert.Null(credential);
        }
    }
}

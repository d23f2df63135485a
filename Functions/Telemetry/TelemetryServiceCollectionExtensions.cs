using System.Runtime.CompilerServices;
using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Qhaigc.Functions.Telemetry;

/// <summary>
/// Turns the OpenTelemetry pipeline on only where telemetry has somewhere to go (docs/telemetry.md): Application
/// Insights when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set, any OTLP endpoint when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is (with the other standard <c>OTEL_*</c> variables), exporters registered in code
/// (<see cref="TelemetryExport"/>). With none of them, no provider exists and nothing listens to the gateway's source
/// and meter.
/// </summary>
public static class TelemetryServiceCollectionExtensions
{
    public const string AppInsightsConnectionString = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    public const string AppInsightsAuthentication = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";
    public const string OtlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ServiceName = "qhaigc-functions";

    /// <summary>Whether any exporter is configured.</summary>
    public static bool IsConfigured(IServiceCollection services, IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[AppInsightsConnectionString]) ||
        !string.IsNullOrWhiteSpace(configuration[OtlpEndpoint]) ||
        ExportInCode(services) is not null;

    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services, IConfiguration configuration, bool functionsWorker)
    {
        return IsConfigured(services, configuration) ? AddPipeline(services, configuration, functionsWorker) : services;
    }

    /// <summary>
    /// The pipeline itself, in a method of its own: a gateway without telemetry does not load the OpenTelemetry
    /// assemblies at all, which the runtime would do to prepare one method that mentions their types
    /// (docs/performance.md#cold-start).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IServiceCollection AddPipeline(IServiceCollection services, IConfiguration configuration, bool functionsWorker)
    {
        services.AddHostedService<TelemetryGauges>();
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(static resource => resource.AddService(ServiceName))
            .WithTracing(static tracing => tracing.AddSource(TelemetryNames.Source))
            .WithMetrics(static metrics => metrics.AddMeter(TelemetryNames.Source).AddRuntimeInstrumentation())
            .WithLogging();
        if (functionsWorker)
        {
            // The worker's invocation spans and the Functions resource attributes (cloud role, instance).
            telemetry.UseFunctionsWorkerDefaults();
        }

        if (!string.IsNullOrWhiteSpace(configuration[OtlpEndpoint]))
        {
            // Endpoint, protocol, headers and intervals from the standard OTEL_* variables.
            telemetry.UseOtlpExporter();
        }

        if (configuration[AppInsightsConnectionString] is { Length: > 0 } connectionString)
        {
            var credential = CredentialFor(configuration[AppInsightsAuthentication]);
            void Configure(AzureMonitorExporterOptions options)
            {
                options.ConnectionString = connectionString;
                options.Credential = credential;
            }

            telemetry.WithTracing(tracing => tracing.AddAzureMonitorTraceExporter(Configure))
                .WithMetrics(metrics => metrics.AddAzureMonitorMetricExporter(Configure))
                .WithLogging(logging => logging.AddAzureMonitorLogExporter(Configure));
        }

        if (ExportInCode(services) is { } export)
        {
            telemetry.WithTracing(tracing => export.Traces?.Invoke(tracing))
                .WithMetrics(metrics => export.Metrics?.Invoke(metrics))
                .WithLogging(logging => export.Logs?.Invoke(logging));
        }

        return services;
    }

    /// <summary>
    /// Entra ID for Application Insights (whose local auth the template turns off): with
    /// <c>Authorization=AAD</c> in <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c>, the app's managed identity (its
    /// <c>ClientId</c> when the string names one, as the template's does); otherwise the connection string's key alone.
    /// </summary>
    public static TokenCredential? CredentialFor(string? authentication)
    {
        if (string.IsNullOrWhiteSpace(authentication))
        {
            return null;
        }

        string? clientId = null;
        var aad = false;
        foreach (var part in authentication.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (name, value) = part.IndexOf('=', StringComparison.Ordinal) is var at and > 0 ? (part[..at].Trim(), part[(at + 1)..].Trim()) : (part, "");
            if (name.Equals("Authorization", StringComparison.OrdinalIgnoreCase))
            {
                aad = value.Equals("AAD", StringComparison.OrdinalIgnoreCase);
            }
            else if (name.Equals("ClientId", StringComparison.OrdinalIgnoreCase) && value.Length > 0)
            {
                clientId = value;
            }
        }

        if (!aad)
        {
            return null;
        }

        return clientId is null
            ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
    }

    private static TelemetryExport? ExportInCode(IServiceCollection services)
    {
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(TelemetryExport) && services[i].ImplementationInstance is TelemetryExport export)
            {
                return export;
            }
        }

        return null;
    }
}

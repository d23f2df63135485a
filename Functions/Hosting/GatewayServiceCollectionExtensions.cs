using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Admin.Files;
using Qhaigc.Functions.Admin.Keys;
using Qhaigc.Functions.Admin.Statements;
using Qhaigc.Functions.Admin.Upstreams;
using Qhaigc.Functions.Admin.Usage;
using Qhaigc.Functions.Admin;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Batches;
using Qhaigc.Functions.Customer;
using Qhaigc.Functions.Files;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Telemetry;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;
using Qhaigc.Functions.WebConsole;

namespace Qhaigc.Functions.Hosting;

/// <summary>Composes the gateway: the one place that knows configuration names and how services fit together.</summary>
public static class GatewayServiceCollectionExtensions
{
    public static IServiceCollection AddGateway(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(GatewayOptions.SectionName);
        services.AddOptions<GatewayOptions>().Bind(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>>(new GatewayOptionsValidator(configuration));
        var prices = section.GetSection(nameof(GatewayOptions.Prices));
        services.AddSingleton<IValidateOptions<GatewayOptions>>(new GovernanceOptionsValidator(prices));

        services.TryAddSingleton(TimeProvider.System);
        services.ConfigureHttpJsonOptions(static json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, GatewayJsonContext.Default));

        // Storage
        services.AddSingleton<GatewayTables>();
        services.AddSingleton<IApiKeyStore, TableApiKeyStore>();
        // TryAdd: a host may bring its own store (the benchmark's in-memory one, bench/README.md).
        services.TryAddSingleton<IUsageStore, TableUsageStore>();
        services.AddSingleton<IOwnedObjectStore, TableOwnedObjectStore>();
        services.AddSingleton<IBatchBilling, BatchBilling>();
        // Batch settlement (docs/batches.md#billing): the timer function in the Functions mode, BatchSettlementLoop in
        // the standalone mode. The upstreams' batch API replaces the stand-in when it is registered.
        services.AddOptions<BatchSettlementOptions>().Bind(section.GetSection("Batches")).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BatchSettlementOptions>, BatchSettlementOptionsValidator>();
        services.TryAddSingleton<IBatchUpstream, UnavailableBatchUpstream>();
        services.AddSingleton<BatchSettlement>();
        services.AddSingleton<ApiKeyAuthenticator>();

        // Usage: one writer is the hosted service that drains the queue; in front of it, governance prices every
        // record and settles the call's reservation (docs/limits-and-prices.md).
        services.AddSingleton<UsageWriter>();
        services.AddSingleton<IUsageSink>(static sp => new GovernedUsageSink(
            sp.GetRequiredService<UsageWriter>(), sp.GetRequiredService<PriceTable>(), sp.GetRequiredService<SettlementService>()));
        services.AddHostedService(static sp => sp.GetRequiredService<UsageWriter>());

        // Governance: prices from settings, limits and spend caps in the limits table, shared by every instance.
        services.AddSingleton(sp =>
        {
            var gateway = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
            var table = PriceTable.Read(prices, gateway.Prices);
            table.FileOperationPrices = new Dictionary<string, decimal>(gateway.Files.Prices, StringComparer.OrdinalIgnoreCase);
            return table;
        });
        services.AddSingleton<ILimitLedger, TableLimitLedger>();
        services.AddSingleton<ReservationRegistry>();
        services.AddSingleton<SettlementService>();
        services.AddSingleton<ReservationRenewer>();
        services.AddSingleton<AdmissionService>();
        services.AddSingleton<GovernanceService>();
        services.AddSingleton<RequestRate>();
        services.AddHostedService(static sp => new GovernanceLifecycle(
            sp.GetRequiredService<ReservationRenewer>(), sp.GetRequiredService<SettlementService>(), sp.GetRequiredService<PriceTable>,
            sp.GetRequiredService<ILogger<GovernanceLifecycle>>()));
        services.AddSingleton<DevKeySeeder>();
        services.AddHostedService(static sp => sp.GetRequiredService<DevKeySeeder>());
        services.AddSingleton<KeyStoreWarmup>();
        services.AddHostedService(static sp => sp.GetRequiredService<KeyStoreWarmup>());

        // Upstreams: one pooled HttpClient per upstream, configured like a proxy.
        var upstreams = section.GetSection(nameof(GatewayOptions.Upstreams)).GetChildren();
        var propagate = section.GetValue($"{nameof(GatewayOptions.Telemetry)}:{nameof(TelemetryOptions.PropagateToUpstreams)}", false);
        foreach (var upstream in upstreams)
        {
            var connectTimeout = upstream.GetValue(nameof(UpstreamOptions.ConnectTimeout), TimeSpan.FromSeconds(10));
            services.AddHttpClient(UpstreamRouter.HttpClientName(upstream.Key), static client =>
                {
                    // Long streams must not be cut: the idle timeout is enforced per read by the upstream itself.
                    client.Timeout = Timeout.InfiniteTimeSpan;
                })
                .ConfigurePrimaryHttpMessageHandler(() => CreateProxyHandler(connectTimeout, propagate))
                // Separates the upstream's time from the gateway's, for the overhead header (docs/architecture.md).
                .AddHttpMessageHandler(static () => new UpstreamWaitHandler())
                .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
                // The upstream adapters log what matters (errors, with the upstream request id); the factory's own
                // per-request logging handlers cost a scope and two log checks on every call.
                .RemoveAllLoggers();
        }

        services.AddHttpClient();
        services.AddSingleton<UpstreamRouter>();
        services.AddSingleton<UpstreamHealth>();
        services.AddSingleton<ResilientUpstreamCaller>();
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<LocalMessageBatches>();
        services.AddSingleton<MessageBatchUpstreams>();
        services.AddSingleton<IBatchUpstream>(static sp => sp.GetRequiredService<MessageBatchUpstreams>());

        // Files (docs/files.md): who owns each file is in the objects table; the local upstream keeps its files in blobs.
        services.AddSingleton<LocalFileStore>();
        services.AddSingleton<FileDeployments>();
        services.TryAddSingleton<FileReferences>();
        services.AddSingleton<FilesHandler>();
        services.AddSingleton<KeyFilesEndpoint>();

        // Handlers shared by both hosting modes, over one request prologue and one forwarder (docs/architecture.md).
        services.AddSingleton<CallPrologue>();
        services.AddSingleton<UpstreamForwarder>();
        services.AddSingleton<MessagesHandler>();
        services.AddSingleton<CountTokensHandler>();
        services.AddSingleton<ChatCompletionsHandler>();
        services.AddSingleton<ModelsHandler>();
        services.AddSingleton<BatchCreation>();
        services.AddSingleton<MessageBatchesHandler>();
        services.AddSingleton<AdminFailureThrottle>();
        services.AddSingleton<AdminAuthorization>();
        services.AddSingleton<KeysEndpoint>();
        services.AddSingleton<UsageEndpoint>();
        services.AddSingleton<StatementsEndpoint>();
        services.AddSingleton<UpstreamsEndpoint>();
        services.AddSingleton<DailyReports>();
        services.AddSingleton<DailyUsageEndpoint>();
        services.AddSingleton<CustomerEndpoint>();
        services.AddSingleton<ConsoleAssets>();
        services.AddSingleton<ConsoleHandler>();
        services.AddSingleton<FallbackHandler>();
        return services;
    }

    /// <summary>
    /// A handler for talking to upstreams the way a reverse proxy does (YARP's settings): no cookies, redirects or
    /// automatic decompression, a connect timeout, pooled connections recycled for DNS changes. Its connect callback
    /// is the default one that also tells the call's <see cref="WaitClock"/> it waited for a new connection. It sends
    /// no <c>traceparent</c> unless <paramref name="propagateTraceContext"/>: an upstream is a third party
    /// (docs/telemetry.md).
    /// </summary>
    public static SocketsHttpHandler CreateProxyHandler(TimeSpan connectTimeout, bool propagateTraceContext = false) => new()
    {
        ActivityHeadersPropagator = propagateTraceContext ? new AttemptTraceContextPropagator() : null,
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = connectTimeout,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        EnableMultipleHttp2Connections = true,
        ConnectCallback = UpstreamWaitHandler.ConnectAsync,
    };
}

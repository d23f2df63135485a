using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>
/// Several gateway instances in this process, sharing one set of tables and one fake Anthropic upstream: what a
/// scaled-out function app looks like to its storage. Optionally on one fake clock, so minute windows are exact.
/// </summary>
public sealed class GatewayCluster : IAsyncDisposable
{
    private GatewayCluster(GatewayTestEnvironment environment, FakeAnthropicUpstream upstream, StandaloneGatewayHost[] hosts, FakeTimeProvider? time)
    {
        Environment = environment;
        Upstream = upstream;
        Hosts = hosts;
        Time = time;
    }

    public GatewayTestEnvironment Environment { get; }

    public FakeAnthropicUpstream Upstream { get; }

    public IReadOnlyList<StandaloneGatewayHost> Hosts { get; }

    public FakeTimeProvider? Time { get; }

    public static async Task<GatewayCluster> StartAsync(
        int instances, Action<Dictionary<string, string?>>? configure = null, FakeTimeProvider? time = null)
    {
        var environment = await GatewayTestEnvironment.CreateAsync();
        var upstream = await FakeAnthropicUpstream.StartAsync();
        var settings = environment.Settings(upstream.GatewaySettings());
        configure?.Invoke(settings);
        var hosts = new StandaloneGatewayHost[instances];
        for (var i = 0; i < instances; i++)
        {
            hosts[i] = await StandaloneGatewayHost.StartAsync(settings, builder =>
            {
                if (time is not null)
                {
                    builder.Services.AddSingleton<TimeProvider>(time);
                }
            });
        }

        return new GatewayCluster(environment, upstream, hosts, time);
    }

    /// <summary>A fake clock at the given second of a minute a little in the past, so records stay within a day of now.</summary>
    public static FakeTimeProvider ClockAtSecond(int second)
    {
        var now = DateTimeOffset.UtcNow.AddMinutes(-5);
        return new FakeTimeProvider(new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, second, TimeSpan.Zero));
    }

    public HttpClient Http(int instance) => RawClient.Create(Hosts[instance % Hosts.Count].BaseAddress);

    public GovernanceService Governance(int instance) => Hosts[instance].Services.GetRequiredService<GovernanceService>();

    /// <summary>
    /// Waits until every instance has settled every call and written every usage record. A client can see a response
    /// end a moment before the gateway finishes the call, so this first waits for the calls' reservations to go.
    /// </summary>
    public async Task WaitForIdleAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var host in Hosts)
        {
            while (host.Services.GetRequiredService<GovernanceService>().ActiveReservations > 0)
            {
                await Task.Delay(20, timeout.Token);
            }

            await host.Services.GetRequiredService<GovernanceService>().WaitForIdleAsync(timeout.Token);
            await host.Services.GetRequiredService<UsageWriter>().WaitForIdleAsync(timeout.Token);
            await host.Services.GetRequiredService<GovernanceService>().WaitForIdleAsync(timeout.Token);
        }
    }

    /// <summary>Polls the usage table until a key has at least <paramref name="count"/> records (written after each response).</summary>
    public async Task<List<UsageRecord>> WaitForRecordsAsync(string keyId, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var records = await Environment.AllUsageAsync(keyId);
            if (records.Count >= count || DateTime.UtcNow > deadline)
            {
                return records;
            }

            await Task.Delay(50);
        }
    }

    public TableClient LimitsTable() => new(Environment.Azurite.ConnectionString, Environment.LimitsTable);

    public async Task<SpendEntity?> SpendAsync(string keyId, string period)
    {
        var response = await LimitsTable().GetEntityIfExistsAsync<SpendEntity>(keyId, SpendEntity.RowFor(period));
        return response.HasValue ? response.Value : null;
    }

    public async Task<StreamsEntity?> StreamsAsync(string keyId)
    {
        var response = await LimitsTable().GetEntityIfExistsAsync<StreamsEntity>(keyId, StreamsEntity.Row);
        return response.HasValue ? response.Value : null;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in Hosts)
        {
            await host.DisposeAsync();
        }

        await Upstream.DisposeAsync();
    }
}

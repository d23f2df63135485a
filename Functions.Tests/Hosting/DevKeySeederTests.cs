using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Hosting;

/// <summary>The development key is created beside the server's start, not before it (docs/performance.md#cold-start).</summary>
public sealed class DevKeySeederTests
{
    private const string DevKey = "sk-qh-local-dev-key-for-these-tests-only-0001";

    [Fact]
    public async Task StartAsync_ServesBeforeStorageAnswers_WhenTheDevelopmentKeyIsStillBeingCreated()
    {
        // Arrange: "storage" on a loopback port that accepts connections and never answers.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var held = new List<Socket>();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                held.Add(await silent.AcceptSocketAsync());
            }
        });
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        await using var app = StandaloneHost.Build(
        [
            "--urls", "http://127.0.0.1:0",
            $"--Gateway:Storage:ConnectionString={AzuriteServer.ConnectionStringFor(port)}",
            $"--Gateway:DevKey={DevKey}",
        ]);

        // Act
        await app.StartAsync();
        var seeder = app.Services.GetRequiredService<DevKeySeeder>();

        // Assert: the server started while the key's table read still waits for an answer.
        Assert.False(seeder.Seeded.IsCompleted);
        await app.StopAsync(new CancellationToken(canceled: true));
    }

    [Fact]
    public async Task CheckAsync_WaitsForTheDevelopmentKey_WhenItsFirstCallArrivesWhileTheKeyIsBeingCreated()
    {
        // Arrange: the key's creation held until the call is under way.
        var environment = await GatewayTestEnvironment.CreateAsync();
        var created = new TaskCompletionSource();
        var store = new HeldCreation(environment.Keys, created.Task);
        var options = Options.Create(new GatewayOptions { DevKey = DevKey });
        var seeder = new DevKeySeeder(store, environment.Tables, TimeProvider.System, options, NullLogger<DevKeySeeder>.Instance);
        var authenticator = new ApiKeyAuthenticator(store, TimeProvider.System, options, NullLogger<ApiKeyAuthenticator>.Instance, seeder);
        await seeder.StartAsync(CancellationToken.None);

        // Act: the call's own lookup, had it not waited, would have found no key.
        var check = authenticator.CheckAsync(DevKey, CancellationToken.None).AsTask();
        await Task.WhenAny(check, Task.Delay(TimeSpan.FromMilliseconds(500)));
        created.SetResult();
        var outcome = await check;

        // Assert
        Assert.Equal(KeyCheckOutcome.Valid, outcome.Outcome);
        Assert.Equal(ApiKeyHasher.IdFromHash(ApiKeyHasher.Hash(DevKey)), outcome.Key!.Id);
    }

    [Fact]
    public async Task StartAsync_CreatesNoKey_WhenStorageIsNotLocal()
    {
        // Arrange
        var store = new InMemoryApiKeyStore();
        var options = Options.Create(new GatewayOptions
        {
            DevKey = DevKey,
            Storage = new StorageOptions { ConnectionString = "DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=a2V5;EndpointSuffix=core.windows.net" },
        });
        var tables = new Qhaigc.Functions.Storage.GatewayTables(options, new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
        var seeder = new DevKeySeeder(store, tables, TimeProvider.System, options, NullLogger<DevKeySeeder>.Instance);

        // Act
        await seeder.StartAsync(CancellationToken.None);
        await seeder.Seeded;

        // Assert
        Assert.Empty(await store.ListAsync(CancellationToken.None));
    }

    /// <summary>The key store, with every creation held until a task completes.</summary>
    private sealed class HeldCreation(IApiKeyStore inner, Task release) : IApiKeyStore
    {
        public Task<ApiKey?> FindByHashAsync(string hash, CancellationToken cancellationToken) => inner.FindByHashAsync(hash, cancellationToken);

        public Task<ApiKey?> GetAsync(string id, CancellationToken cancellationToken) => inner.GetAsync(id, cancellationToken);

        public Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

        public async Task<bool> CreateAsync(ApiKey key, CancellationToken cancellationToken)
        {
            await release;
            return await inner.CreateAsync(key, cancellationToken);
        }

        public Task<bool> UpdateAsync(ApiKey key, CancellationToken cancellationToken) => inner.UpdateAsync(key, cancellationToken);

        public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken) => inner.DeleteAsync(id, cancellationToken);

        public Task<ApiKey?> RotateAsync(
            string id, KeySecret newSecret, DateTimeOffset oldSecretsExpireAt, DateTimeOffset now, CancellationToken cancellationToken) =>
            inner.RotateAsync(id, newSecret, oldSecretsExpireAt, now, cancellationToken);
    }
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using NSubstitute;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Tests.Hosting;

/// <summary>A new instance reads the keys table beside its start, not on its first call (docs/performance.md#cold-start).</summary>
public sealed class KeyStoreWarmupTests
{
    private const string Deployed = "DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=a2V5;EndpointSuffix=core.windows.net";

    [Fact]
    public async Task StartAsync_LooksUpOneKeyThatDoesNotExist_WithoutWaitingForTheAnswer()
    {
        // Arrange: a deployment (no development key) whose storage has not answered yet.
        var answer = new TaskCompletionSource<ApiKey?>();
        var store = Substitute.For<IApiKeyStore>();
        store.FindByHashAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns(answer.Task);
        var warmup = Warmup(store, new GatewayOptions { Storage = new StorageOptions { ConnectionString = Deployed } });

        // Act
        await warmup.StartAsync(CancellationToken.None);
        var startedBeforeTheAnswer = !warmup.Warmed.IsCompleted;
        answer.SetResult(null);
        await warmup.Warmed;

        // Assert
        Assert.True(startedBeforeTheAnswer);
        await store.Received(1).FindByHashAsync(Arg.Is<string>(hash => hash.Length == 64), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task StartAsync_IgnoresStorageThatFails_BecauseTheFirstCallReportsIt()
    {
        // Arrange
        var store = Substitute.For<IApiKeyStore>();
        store.FindByHashAsync(Arg.Any<string>(), Arg.Any<CancellationToken>())
            .Returns<Task<ApiKey?>>(_ => throw new StorageUnavailableException("down", new IOException("refused")));
        var warmup = Warmup(store, new GatewayOptions { Storage = new StorageOptions { ConnectionString = Deployed } });

        // Act
        await warmup.StartAsync(CancellationToken.None);
        var failure = await Record.ExceptionAsync(() => warmup.Warmed);

        // Assert
        Assert.Null(failure);
    }

    [Fact]
    public async Task StartAsync_LeavesTheReadToTheSeeding_WhenTheDevelopmentKeyIsSeeded()
    {
        // Arrange
        var store = Substitute.For<IApiKeyStore>();
        var warmup = Warmup(store, new GatewayOptions { DevKey = "sk-qh-local-dev-key-for-these-tests-only-0001" });

        // Act
        await warmup.StartAsync(CancellationToken.None);
        await warmup.Warmed;

        // Assert
        await store.DidNotReceiveWithAnyArgs().FindByHashAsync(default!, default);
    }

    private static KeyStoreWarmup Warmup(IApiKeyStore store, GatewayOptions settings)
    {
        var options = Options.Create(settings);
        return new KeyStoreWarmup(store, new GatewayTables(options, new ConfigurationBuilder().Build()), options);
    }
}

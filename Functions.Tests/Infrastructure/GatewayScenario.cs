using Anthropic;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>
/// One end-to-end arrangement: Azurite tables of its own, optionally the fake Anthropic upstream, a gateway in the
/// requested hosting mode, and a client key.
/// </summary>
public sealed class GatewayScenario : IAsyncDisposable
{
    private GatewayScenario(GatewayTestEnvironment environment, FakeAnthropicUpstream? upstream, IGatewayHost host, string secret, ApiKey key)
    {
        Environment = environment;
        Upstream = upstream;
        Host = host;
        Secret = secret;
        Key = key;
    }

    public GatewayTestEnvironment Environment { get; }

    public FakeAnthropicUpstream? Upstream { get; }

    public IGatewayHost Host { get; }

    /// <summary>The client key's secret.</summary>
    public string Secret { get; }

    public ApiKey Key { get; }

    public static async Task<GatewayScenario> StartAsync(
        string mode,
        bool withAnthropicUpstream = true,
        Action<Dictionary<string, string?>>? configure = null,
        IReadOnlyList<string>? keyModels = null)
    {
        var environment = await GatewayTestEnvironment.CreateAsync();
        var upstream = withAnthropicUpstream ? await FakeAnthropicUpstream.StartAsync() : null;
        var settings = environment.Settings(upstream?.GatewaySettings());
        configure?.Invoke(settings);
        var (secret, key) = await environment.CreateKeyAsync(models: keyModels);
        var host = await GatewayHosts.StartAsync(mode, settings);
        return new GatewayScenario(environment, upstream, host, secret, key);
    }

    /// <summary>The official Anthropic C# SDK pointed at the gateway, retries off so every call is one request.</summary>
    public AnthropicClient Sdk(string? secret = null) => new()
    {
        ApiKey = secret ?? Secret,
        BaseUrl = Host.BaseAddress.ToString().TrimEnd('/'),
        MaxRetries = 0,
    };

    public HttpClient Http() => RawClient.Create(Host.BaseAddress);

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        if (Upstream is not null)
        {
            await Upstream.DisposeAsync();
        }
    }
}

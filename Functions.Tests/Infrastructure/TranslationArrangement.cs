using System.ClientModel;
using System.ClientModel.Primitives;
using OpenAI;
using OpenAI.Chat;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>
/// A gateway whose only upstream is of one kind: the fake Anthropic API or the fake OpenAI-compatible server, both
/// answering the same model names with matching content and usage, so one expectation serves both kinds.
/// </summary>
public sealed class TranslationArrangement : IAsyncDisposable
{
    public const string Anthropic = "anthropic";
    public const string OpenAi = "openai";

    private TranslationArrangement(GatewayScenario scenario, FakeOpenAiUpstream? openAi, string kind)
    {
        Scenario = scenario;
        OpenAiUpstream = openAi;
        Kind = kind;
    }

    public GatewayScenario Scenario { get; }

    public FakeOpenAiUpstream? OpenAiUpstream { get; }

    public string Kind { get; }

    /// <summary>The tool-call id the fake of this kind answers with.</summary>
    public string ExpectedToolId => Kind == Anthropic ? "toolu_01T1x1fJ34qAmk2tNTrN7Up6" : "call_01T1x1fJ34qAmk2tNTrN7Up6";

    public static async Task<TranslationArrangement> StartAsync(string mode, string kind, Action<Dictionary<string, string?>>? configure = null)
    {
        if (kind == Anthropic)
        {
            return new TranslationArrangement(await GatewayScenario.StartAsync(mode, configure: configure), null, kind);
        }

        var openAi = await FakeOpenAiUpstream.StartAsync();
        var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false, configure: settings =>
        {
            foreach (var (key, value) in openAi.GatewaySettings())
            {
                settings[key] = value;
            }

            configure?.Invoke(settings);
        });
        return new TranslationArrangement(scenario, openAi, kind);
    }

    /// <summary>The official OpenAI .NET SDK pointed at <c>&lt;gateway&gt;/v1</c> with the gateway key, retries off.</summary>
    public ChatClient OpenAiSdk(string model) => new(model, new ApiKeyCredential(Scenario.Secret), new OpenAIClientOptions
    {
        Endpoint = new Uri(Scenario.Host.BaseAddress, "v1"),
        RetryPolicy = new ClientRetryPolicy(0),
    });

    /// <summary>Waits for the usage rows of the scenario's key, written after each response.</summary>
    public async Task<List<UsageRecord>> WaitForRecordsAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var records = await Scenario.Environment.AllUsageAsync(Scenario.Key.Id);
            if (records.Count >= count || DateTime.UtcNow > deadline)
            {
                Assert.Equal(count, records.Count);
                return records;
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Scenario.DisposeAsync();
        if (OpenAiUpstream is not null)
        {
            await OpenAiUpstream.DisposeAsync();
        }
    }
}

using System.Net;
using System.Text;
using System.Text.Json;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.Upstreams;

/// <summary>
/// OpenAI takes <c>temperature</c> 0–2, Claude 0–1: a chat request's temperature is clamped by each attempt's upstream,
/// not decided once for the primary, so a Claude-format fallback behind an OpenAI primary never gets a value it would
/// refuse, and an OpenAI-compatible upstream gets the value as the client sent it (docs/openai-compatibility.md).
/// </summary>
public sealed class TemperaturePerAttemptTests
{
    private const string Model = FakeOpenAiUpstream.Models.Unavailable;

    [Fact]
    public async Task ChatCompletions_ClampsTemperatureForAnAnthropicFallback_AndNotForTheOpenAiPrimary()
    {
        // Arrange: the OpenAI primary serves the model but is overloaded; the Anthropic upstream (everything else, and
        // this model under another name) is its fallback.
        await using var openAi = await FakeOpenAiUpstream.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone, configure: settings =>
        {
            foreach (var (key, value) in openAi.GatewaySettings("openai", Model))
            {
                settings[key] = value;
            }

            settings[$"Gateway:Upstreams:anthropic:ModelMap:{Model}"] = FakeAnthropicUpstream.Models.Text;
            settings["Gateway:Resilience:FirstRetryDelay"] = "00:00:00.010";
            settings["Gateway:Resilience:MaxRetryDelay"] = "00:00:00.050";
        });
        using var http = scenario.Http();

        // Act
        using var response = await http.SendAsync(ChatRequest(scenario.Secret, Model, "1.5"));

        // Assert: the OpenAI attempt got 1.5 as sent, the Anthropic fallback 1, and the client its answer.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1.5, Assert.Single(openAi.ReceivedBodies).GetProperty("temperature").GetDouble());
        Assert.Equal(1, TemperatureOf(Assert.Single(scenario.Upstream!.Received, static r => r.PathAndQuery == "/v1/messages")));
    }

    [Fact]
    public async Task ChatCompletions_KeepsATemperatureWithinClaudesRange_AsSent()
    {
        // Arrange: an Anthropic upstream only.
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone);
        using var http = scenario.Http();

        // Act
        using var response = await http.SendAsync(ChatRequest(scenario.Secret, FakeAnthropicUpstream.Models.Text, "0.7"));

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0.7, TemperatureOf(Assert.Single(scenario.Upstream!.Received, static r => r.PathAndQuery == "/v1/messages")));
    }

    private static HttpRequestMessage ChatRequest(string secret, string model, string temperature) =>
        new(HttpMethod.Post, "v1/chat/completions")
        {
            Headers = { { "Authorization", "Bearer " + secret } },
            Content = new StringContent(
                $$"""{"model":"{{model}}","temperature":{{temperature}},"messages":[{"role":"user","content":"Hello"}]}""",
                Encoding.UTF8,
                "application/json"),
        };

    private static double TemperatureOf(ReceivedRequest request) =>
        JsonDocument.Parse(request.Body).RootElement.GetProperty("temperature").GetDouble();
}

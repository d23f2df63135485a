using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.TestDoubles;

/// <summary>
/// A fake OpenAI-compatible server (what OpenAI, vLLM, Ollama or llama.cpp expose) on a real Kestrel socket
/// (127.0.0.1, free port), under <c>/v1</c>. It answers <c>POST /v1/chat/completions</c> with scripted completions and
/// recorded chunk streams chosen by the requested model, lists models on <c>GET /v1/models</c>, and records every
/// request it receives so tests can check what the gateway sent.
/// </summary>
public sealed class FakeOpenAiUpstream : IAsyncDisposable
{
    public const string UpstreamKey = "sk-openai-upstream-secret-for-tests";

    /// <summary>Models the fake knows; the names match <see cref="FakeAnthropicUpstream.Models"/> where the answers match.</summary>
    public static class Models
    {
        /// <summary>"Hello, world — ünïcödé ✓"; usage as the Anthropic fake's text fixtures.</summary>
        public const string Text = FakeAnthropicUpstream.Models.Text;

        /// <summary>Text, then <c>get_weather</c> with San Francisco; usage as the Anthropic fake's tool fixture.</summary>
        public const string ToolUse = FakeAnthropicUpstream.Models.ToolUse;

        /// <summary><c>reasoning_content</c>, then two parallel calls with ids that need sanitising.</summary>
        public const string ReasoningTools = "fake-reasoning-tools";

        /// <summary>An answer without any usage.</summary>
        public const string NoUsage = "fake-no-usage";

        /// <summary>finish_reason <c>length</c>.</summary>
        public const string Length = "fake-length";

        public const string MidStreamError = FakeAnthropicUpstream.Models.MidStreamError;
        public const string RateLimited = FakeAnthropicUpstream.Models.RateLimited;
        public const string BadRequest = FakeAnthropicUpstream.Models.BadRequest;
        public const string Unavailable = "fake-unavailable";

        /// <summary>Echoes what the fake received (the translated request) as the answer text.</summary>
        public const string Echo = "fake-echo";
    }

    /// <summary>What <c>GET /v1/models</c> lists.</summary>
    public static readonly string[] ListedModels = [Models.Text, Models.ToolUse, "org/fake-slash"];

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();

    private FakeOpenAiUpstream(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>The base URL, ending in <c>/v1</c> as the gateway expects.</summary>
    public Uri BaseUrl { get; }

    public IReadOnlyList<ReceivedRequest> Received => [.. _received];

    /// <summary>The chat completion requests received, parsed.</summary>
    public IReadOnlyList<JsonElement> ReceivedBodies =>
        [.. Received.Where(static r => r.PathAndQuery.StartsWith("/v1/chat", StringComparison.Ordinal)).Select(static r => JsonDocument.Parse(r.Body).RootElement)];

    public IEnumerable<KeyValuePair<string, string?>> GatewaySettings(string name = "openai", string models = "*") =>
    [
        new($"Gateway:Upstreams:{name}:Kind", "openai"),
        new($"Gateway:Upstreams:{name}:BaseUrl", BaseUrl.ToString()),
        new($"Gateway:Upstreams:{name}:ApiKey", UpstreamKey),
        new($"Gateway:Upstreams:{name}:Models", models),
    ];

    public static async Task<FakeOpenAiUpstream> StartAsync()
    {
        KnownSecrets.Register(UpstreamKey);
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeOpenAiUpstream(app, new Uri($"http://127.0.0.1:{port}/v1"));
        app.MapPost("/v1/chat/completions", fake.HandleAsync);
        app.MapGet("/v1/models", fake.ListAsync);
        await app.StartAsync();
        return fake;
    }

    private async Task ListAsync(HttpContext context)
    {
        Record(context, []);
        context.Response.ContentType = "application/json";
        var data = string.Join(',', ListedModels.Select(static (id, i) => $$"""{"id":"{{id}}","object":"model","created":{{1700000000 + i}},"owned_by":"fake"}"""));
        await context.Response.WriteAsync($$"""{"object":"list","data":[{{data}}]}""");
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        Record(context, body);

        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        var model = root.GetProperty("model").GetString();
        var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var response = context.Response;
        response.Headers["x-request-id"] = "req_openai_" + Guid.NewGuid().ToString("N")[..12];

        switch (model)
        {
            case Models.RateLimited:
                await ErrorAsync(context, 429, """{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}""", "7");
                return;
            case Models.BadRequest:
                await ErrorAsync(context, 400, """{"error":{"message":"Invalid value for 'messages': upstream says no","type":"invalid_request_error","param":"messages","code":null}}""");
                return;
            case Models.Unavailable:
                await ErrorAsync(context, 503, """{"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error","param":null,"code":null}}""");
                return;
        }

        if (!stream)
        {
            response.ContentType = "application/json";
            await response.Body.WriteAsync(Completion(model, root), context.RequestAborted);
            return;
        }

        var fixture = model switch
        {
            Models.ToolUse => "OpenAi/tool_calls.sse",
            Models.ReasoningTools => "OpenAi/reasoning_parallel_tools.sse",
            Models.NoUsage => "OpenAi/no_usage.sse",
            Models.MidStreamError => "OpenAi/midstream_error.sse",
            Models.Length => "OpenAi/length.sse",
            _ => "OpenAi/text.sse",
        };
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        foreach (var block in Fixtures.Text(fixture).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            await response.WriteAsync(block + "\n\n", context.RequestAborted);
            await response.Body.FlushAsync(context.RequestAborted);
        }
    }

    private static byte[] Completion(string? model, JsonElement request) => model switch
    {
        Models.ToolUse => Fixtures.Bytes("OpenAi/completion_tool_calls.json"),
        Models.ReasoningTools => Fixtures.Bytes("OpenAi/completion_reasoning_tools.json"),
        Models.NoUsage => Fixtures.Bytes("OpenAi/completion_no_usage.json"),
        Models.Length => Fixtures.Bytes("OpenAi/completion_length.json"),
        Models.Echo => Encoding.UTF8.GetBytes(
            "{\"id\":\"chatcmpl-echo\",\"object\":\"chat.completion\",\"created\":1741569952,\"model\":\"echo\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":" +
            JsonSerializer.Serialize(request.GetRawText(), FakeJson.Default.String) +
            "},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}"),
        _ => Fixtures.Bytes("OpenAi/completion_text.json"),
    };

    private void Record(HttpContext context, byte[] body)
    {
        var headers = context.Request.Headers.ToDictionary(static h => h.Key.ToLowerInvariant(), static h => h.Value.ToString());
        _received.Enqueue(new ReceivedRequest(context.Request.Path + context.Request.QueryString, headers, body));
    }

    private static async Task ErrorAsync(HttpContext context, int status, string body, string? retryAfter = null)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        if (retryAfter is not null)
        {
            context.Response.Headers["retry-after"] = retryAfter;
        }

        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(body), context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

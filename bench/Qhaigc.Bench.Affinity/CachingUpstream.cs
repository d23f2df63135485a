using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Qhaigc.Bench.Affinity;

/// <summary>
/// A fake Anthropic account with a prompt cache of its own, as Anthropic's is per account: a request's longest prefix
/// (the system prompt and its first messages) that this upstream has seen before is reported as
/// <c>cache_read_input_tokens</c>, the rest as <c>input_tokens</c> (and written to the cache). Four characters make a
/// token. Answers are whole messages with a short fixed text.
/// </summary>
public sealed class CachingUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);
    private int _calls;

    private CachingUpstream(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public int Calls => Volatile.Read(ref _calls);

    public static async Task<CachingUpstream> StartAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var upstream = new CachingUpstream(app, new Uri($"http://127.0.0.1:{port}/"));
        app.MapPost("/v1/messages", upstream.AnswerAsync);
        await app.StartAsync();
        return upstream;
    }

    /// <summary>Forgets every cached prefix and the call count, for the next round.</summary>
    public void Reset()
    {
        _seen.Clear();
        Interlocked.Exchange(ref _calls, 0);
    }

    private async Task AnswerAsync(HttpContext context)
    {
        Interlocked.Increment(ref _calls);
        using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var root = document.RootElement;
        var system = root.TryGetProperty("system", out var s) ? s.GetRawText() : "";
        var messages = root.GetProperty("messages").EnumerateArray().Select(static m => m.GetRawText()).ToArray();

        // The longest prefix seen before is read from the cache; every prefix of this request is cached from now on.
        var prefixChars = new long[messages.Length + 1];
        prefixChars[0] = system.Length;
        for (var i = 0; i < messages.Length; i++)
        {
            prefixChars[i + 1] = prefixChars[i] + messages[i].Length;
        }

        var cachedChars = 0L;
        for (var length = messages.Length; length >= 1; length--)
        {
            if (_seen.ContainsKey(Key(system, messages, length)))
            {
                cachedChars = prefixChars[length];
                break;
            }
        }

        for (var length = 1; length <= messages.Length; length++)
        {
            _seen.TryAdd(Key(system, messages, length), 0);
        }

        var total = prefixChars[^1] / 4;
        var read = cachedChars / 4;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(
            "{\"id\":\"msg_bench\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"bench\"," +
            "\"content\":[{\"type\":\"text\",\"text\":\"Noted; go on.\"}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null," +
            $"\"usage\":{{\"input_tokens\":{total - read},\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":{read},\"output_tokens\":4}}}}",
            context.RequestAborted);
    }

    private static string Key(string system, string[] messages, int length)
    {
        var text = new StringBuilder(system);
        for (var i = 0; i < length; i++)
        {
            text.Append('\n').Append(messages[i]);
        }

        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

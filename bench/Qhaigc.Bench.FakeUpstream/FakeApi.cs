using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace Qhaigc.Bench.FakeUpstream;

/// <summary>
/// <c>POST /v1/messages</c> and <c>POST /v1/chat/completions</c>: canned answers, as fast as Kestrel can send them,
/// so that what a benchmark measures on top of this is the gateway. A stream's first event goes out with the headers
/// (as a real upstream's does), then each event is flushed on its own. <c>POST /v1/messages/count_tokens</c> answers a
/// fixed count after <paramref name="countDelayMs"/> (what a gateway with <c>count-first</c> asks before admission).
/// </summary>
public sealed class FakeApi(BenchModel defaults, int countDelayMs)
{
    private long _requests;
    private long _countRequests;

    public long Requests => Interlocked.Read(ref _requests);

    public long CountRequests => Interlocked.Read(ref _countRequests);

    /// <summary>A count_tokens answer: the request's body is read whole and not looked at.</summary>
    public async Task CountTokensAsync(HttpContext context)
    {
        Interlocked.Increment(ref _countRequests);
        await ReadRequestAsync(context.Request, context.RequestAborted);
        if (countDelayMs > 0)
        {
            await Task.Delay(countDelayMs, context.RequestAborted);
        }

        var response = context.Response;
        response.Headers["request-id"] = "req_bench_upstream";
        response.ContentType = "application/json";
        response.ContentLength = CannedAnswers.TokenCount.Length;
        await response.Body.WriteAsync(CannedAnswers.TokenCount, context.RequestAborted);
    }

    public Task MessagesAsync(HttpContext context) => AnswerAsync(context, chat: false);

    public Task ChatCompletionsAsync(HttpContext context) => AnswerAsync(context, chat: true);

    private async Task AnswerAsync(HttpContext context, bool chat)
    {
        Interlocked.Increment(ref _requests);
        var (model, stream) = await ReadRequestAsync(context.Request, context.RequestAborted);
        var ask = BenchModel.Parse(model, defaults);
        var response = context.Response;
        response.Headers["request-id"] = "req_bench_upstream";

        if (ask.DelayMs > 0)
        {
            await Task.Delay(ask.DelayMs, context.RequestAborted);
        }

        if (!stream)
        {
            var body = chat ? CannedAnswers.ChatCompletion : CannedAnswers.ClaudeMessage;
            response.ContentType = "application/json";
            response.ContentLength = body.Length;
            await response.Body.WriteAsync(body, context.RequestAborted);
            return;
        }

        var events = chat ? CannedAnswers.ChatStream(ask.Events) : CannedAnswers.ClaudeStream(ask.Events);
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var writer = response.BodyWriter;
        // Paced events keep to a schedule from the first one (event i is due i gaps after it), so a late timer delays
        // one event, not every event after it: direct and gateway runs can be compared event by event.
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < events.Length; i++)
        {
            if (i > 0 && ask.GapMs > 0)
            {
                var due = TimeSpan.FromMilliseconds(i * (double)ask.GapMs) - Stopwatch.GetElapsedTime(started);
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, context.RequestAborted);
                }
            }

            writer.Write(events[i]);
            var flushed = await writer.FlushAsync(context.RequestAborted);
            if (flushed.IsCompleted || flushed.IsCanceled)
            {
                return;
            }
        }
    }

    /// <summary>The top-level <c>model</c> and <c>stream</c> of a JSON body; nothing else is looked at.</summary>
    private static async Task<(string Model, bool Stream)> ReadRequestAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            if (result.IsCompleted)
            {
                var parsed = Parse(result.Buffer);
                reader.AdvanceTo(result.Buffer.End);
                return parsed;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static (string Model, bool Stream) Parse(ReadOnlySequence<byte> body)
    {
        var model = "";
        var stream = false;
        var json = new Utf8JsonReader(body);
        try
        {
            if (!json.Read() || json.TokenType != JsonTokenType.StartObject)
            {
                return (model, stream);
            }

            while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
            {
                if (json.ValueTextEquals("model"u8))
                {
                    json.Read();
                    model = json.TokenType == JsonTokenType.String ? json.GetString() ?? "" : "";
                }
                else if (json.ValueTextEquals("stream"u8))
                {
                    json.Read();
                    stream = json.TokenType == JsonTokenType.True;
                }
                else
                {
                    json.Read();
                    json.TrySkip();
                }
            }
        }
        catch (JsonException)
        {
            // A benchmark sends valid JSON; anything else gets the defaults.
        }

        return (model, stream);
    }
}

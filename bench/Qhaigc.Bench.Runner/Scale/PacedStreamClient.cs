using System.Buffers;
using System.Diagnostics;
using System.Text;

namespace Qhaigc.Bench.Runner.Scale;

/// <summary>
/// The load client's side of one paced stream: sends the request, reads the answer as it arrives, counts its bytes and
/// its events (an event ends with a blank line), and notes when the first byte came and how late each event came
/// behind its schedule. Event i leaves the fake upstream i gaps after the first; its offset is its arrival less i gaps,
/// and its lateness that offset less the stream's smallest (the hop's best time in this stream): a constant delay of
/// every event is no lateness, an event held back is.
/// </summary>
public static class PacedStreamClient
{
    private static ReadOnlySpan<byte> PingHead => "event: ping\n"u8;

    public static async Task<StreamOutcome> RunAsync(HttpClient http, Uri url, byte[] body, double gapMs, LatenessHistogram lateness, Action opened)
    {
        var sent = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TryAddWithoutValidation("x-api-key", Servers.GatewayKey);
        request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
        {
            return new StreamOutcome(0, 0, double.NaN, $"status {(int)response.StatusCode}");
        }

        opened();
        await using var stream = await response.Content.ReadAsStreamAsync();
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            long bytes = 0, events = 0, first = 0, pingBytes = 0, eventBytes = 0;
            var offsets = new List<long>();
            var lastWasNewline = false;
            // The start of the event being read, enough to tell a keep-alive ping (which the gateway may add while the
            // upstream is silent: docs/wire-contract.md) from the upstream's own events.
            var head = new byte[PingHead.Length];
            var gapTicks = gapMs * Stopwatch.Frequency / 1000;
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                var now = Stopwatch.GetTimestamp();
                if (bytes == 0)
                {
                    first = now;
                }

                bytes += read;
                foreach (var b in buffer.AsSpan(0, read))
                {
                    if (eventBytes < head.Length)
                    {
                        head[(int)eventBytes] = b;
                    }

                    eventBytes++;
                    if (b != (byte)'\n')
                    {
                        lastWasNewline = false;
                        continue;
                    }

                    if (!lastWasNewline)
                    {
                        lastWasNewline = true;
                        continue;
                    }

                    lastWasNewline = false;
                    if (eventBytes >= head.Length && head.AsSpan().SequenceEqual(PingHead))
                    {
                        pingBytes += eventBytes;
                    }
                    else
                    {
                        offsets.Add(now - (long)(events * gapTicks));
                        events++;
                    }

                    eventBytes = 0;
                }
            }

            if (offsets.Count > 0)
            {
                var best = offsets.Min();
                foreach (var offset in offsets)
                {
                    lateness.Add((offset - best) * 1000.0 / Stopwatch.Frequency);
                }
            }

            return new StreamOutcome(bytes - pingBytes, events, (first - sent) * 1000.0 / Stopwatch.Frequency, null);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The whole answer's bytes (the reference an answer through a contender must equal).</summary>
    public static async Task<byte[]> ReadWholeAsync(HttpClient http, Uri url, string model)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(
                $$"""{"model":"{{model}}","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"Hello, Claude"}]}""")),
        };
        request.Content.Headers.ContentType = new("application/json");
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsByteArrayAsync();
    }
}

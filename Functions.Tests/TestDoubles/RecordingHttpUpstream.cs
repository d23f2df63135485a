using System.Collections.Concurrent;
using System.Net;

namespace Qhaigc.Functions.Tests.TestDoubles;

/// <summary>
/// An upstream behind a <see cref="LambdaHandler"/>: it records every request it received and every body it answered
/// with (as <see cref="TrackedContent"/>), so a test of an adapter sees what went out and whether the answer's
/// connection was released.
/// </summary>
public sealed class RecordingHttpUpstream
{
    private readonly ConcurrentQueue<CapturedRequest> _received = new();
    private readonly ConcurrentQueue<TrackedContent> _answers = new();

    public RecordingHttpUpstream(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> answer) =>
        Client = new HttpClient(new LambdaHandler(async (request, cancellationToken) =>
        {
            _received.Enqueue(await CapturedRequest.CaptureAsync(request, cancellationToken));
            var response = await answer(request, cancellationToken);
            if (response.Content is TrackedContent tracked)
            {
                _answers.Enqueue(tracked);
            }

            return response;
        }));

    public HttpClient Client { get; }

    public IReadOnlyList<CapturedRequest> Received => [.. _received];

    /// <summary>The one answer body handed out.</summary>
    public TrackedContent Answer => Assert.Single(_answers);

    /// <summary>An upstream that answers every request alike.</summary>
    public static RecordingHttpUpstream Answering(HttpStatusCode status, string body, string mediaType = "application/json", params string[] headers) =>
        new((_, _) => Task.FromResult(Response(status, body, mediaType, headers)));

    /// <summary>A response with a tracked body; <paramref name="headers"/> are <c>name: value</c> lines.</summary>
    public static HttpResponseMessage Response(HttpStatusCode status, string body, string mediaType = "application/json", params string[] headers)
    {
        var response = new HttpResponseMessage(status) { Content = new TrackedContent(body, mediaType) };
        foreach (var header in headers)
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            response.Headers.TryAddWithoutValidation(header[..colon].Trim(), header[(colon + 1)..].Trim());
        }

        return response;
    }
}

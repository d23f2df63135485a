using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// Reads a Message Batches create body, <c>{"requests":[{…},{…}]}</c>, one request at a time as it arrives: the body is
/// never held whole, only the request being read (docs/batches.md#limits). Each request comes out as its own bytes,
/// exactly as sent. The body's JSON is checked as it goes; a body over <see cref="MaxBodyBytes"/> or a request over
/// the single-request limit is refused with <c>413</c>, as Anthropic refuses them.
/// </summary>
public sealed class BatchBodyReader(PipeReader pipe, long maxBodyBytes, long maxRequestBytes, TimeSpan stallTimeout)
{
    /// <summary>Anthropic's limit on a batch: 256 MB.</summary>
    public const long MaxBodyBytes = 256L * 1024 * 1024;

    /// <summary>Anthropic's limit on the requests of a batch.</summary>
    public const int MaxRequests = 100_000;

    private JsonReaderState _state = new(new JsonReaderOptions { MaxDepth = MessagesRequestValidator.ParseOptions.MaxDepth + 3 });
    private Stage _stage = Stage.Start;
    private long _consumedBytes;
    private long _wanted;
    private bool _sawRequests;

    private enum Stage
    {
        Start,
        Root,
        RequestsValue,
        Requests,
        Done,
    }

    /// <summary>How many requests were read so far.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// The next request's bytes; or, at the end of the requests, <see cref="BatchBodyItem.End"/>; or why the body is
    /// refused. Throws <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public async ValueTask<BatchBodyItem> NextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result;
            using (var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                stall.CancelAfter(stallTimeout);
                try
                {
                    result = await pipe.ReadAsync(stall.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return BatchBodyItem.Refused(new ApiError(408, ErrorTypes.Timeout, Api.RequestBody.StalledMessage));
                }
            }

            var buffer = result.Buffer;
            if (_consumedBytes + buffer.Length > maxBodyBytes)
            {
                pipe.AdvanceTo(buffer.Start, buffer.End);
                return BatchBodyItem.Refused(TooLarge(maxBodyBytes));
            }

            if (buffer.Length < _wanted && !result.IsCompleted)
            {
                // A request larger than what has arrived: wait until the buffer has doubled before scanning it again, so
                // a large request is scanned a bounded number of times.
                pipe.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            BatchBodyItem item;
            SequencePosition consumed;
            try
            {
                item = Scan(buffer, result.IsCompleted, out consumed);
            }
            catch (JsonException exception)
            {
                pipe.AdvanceTo(buffer.Start, buffer.End);
                return BatchBodyItem.Refused(ApiError.InvalidRequest("There was an error parsing the body: " + Describe(exception)));
            }

            _consumedBytes += buffer.Slice(buffer.Start, consumed).Length;
            if (item.Kind != BatchBodyItemKind.NeedMore)
            {
                // Only what was read is examined: the next request may be whole in the buffer already, and saying more
                // would make the pipe read ahead of the gateway, holding the body in memory.
                pipe.AdvanceTo(consumed, consumed);
                _wanted = 0;
                return item;
            }

            pipe.AdvanceTo(consumed, buffer.End);

            if (result.IsCompleted)
            {
                return BatchBodyItem.Refused(ApiError.InvalidRequest("There was an error parsing the body: the body ended before the JSON did."));
            }
        }
    }

    private BatchBodyItem Scan(ReadOnlySequence<byte> buffer, bool final, out SequencePosition consumed)
    {
        var reader = new Utf8JsonReader(buffer, final, _state);
        while (true)
        {
            var before = reader.Position;
            var beforeState = reader.CurrentState;
            if (!reader.Read())
            {
                _state = reader.CurrentState;
                consumed = reader.Position;
                return _stage == Stage.Done && final ? BatchBodyItem.End : BatchBodyItem.NeedMore;
            }

            switch (_stage)
            {
                case Stage.Start:
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        consumed = reader.Position;
                        return BatchBodyItem.Refused(ApiError.InvalidRequest("Input should be a valid dictionary"));
                    }

                    _stage = Stage.Root;
                    break;
                case Stage.Root when reader.TokenType == JsonTokenType.PropertyName:
                    if (!reader.ValueTextEquals("requests"u8))
                    {
                        consumed = reader.Position;
                        return BatchBodyItem.Refused(ApiError.InvalidRequest($"{Truncate(reader.GetString())}: Extra inputs are not permitted"));
                    }

                    if (_sawRequests)
                    {
                        consumed = reader.Position;
                        return BatchBodyItem.Refused(ApiError.InvalidRequest("requests: the field appears more than once"));
                    }

                    _sawRequests = true;
                    _stage = Stage.RequestsValue;
                    break;
                case Stage.Root:
                    // The root object's end.
                    if (!_sawRequests)
                    {
                        consumed = reader.Position;
                        return BatchBodyItem.Refused(ApiError.InvalidRequest("requests: Field required"));
                    }

                    _stage = Stage.Done;
                    break;
                case Stage.RequestsValue:
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        consumed = reader.Position;
                        return BatchBodyItem.Refused(ApiError.InvalidRequest("requests: Input should be a valid list"));
                    }

                    _stage = Stage.Requests;
                    break;
                case Stage.Requests when reader.TokenType == JsonTokenType.EndArray:
                    if (Count == 0)
                    {
                        consumed = reader.Position;
                        return BatchBodyItem.Refused(ApiError.InvalidRequest("requests: List should have at least 1 item after validation, not 0"));
                    }

                    _stage = Stage.Root;
                    break;
                case Stage.Requests when reader.TokenType == JsonTokenType.StartObject:
                    if (Count == MaxRequests)
                    {
                        consumed = reader.Position;
                        return BatchBodyItem.Refused(ApiError.InvalidRequest($"requests: A batch holds at most {MaxRequests} requests."));
                    }

                    var start = reader.TokenStartIndex;
                    if (!reader.TrySkip())
                    {
                        // The request has not arrived whole: read it again from its start once more has come.
                        _state = beforeState;
                        consumed = before;
                        var pending = buffer.Length - buffer.Slice(buffer.Start, before).Length;
                        if (pending > maxRequestBytes)
                        {
                            return BatchBodyItem.Refused(ApiError.From(ApiErrorKind.RequestTooLarge,
                                $"requests.{Count}: a request in a batch is at most {maxRequestBytes} bytes."));
                        }

                        _wanted = Math.Max(buffer.Length * 2, 4096);
                        return BatchBodyItem.NeedMore;
                    }

                    var request = buffer.Slice(start, reader.Position);
                    if (request.Length > maxRequestBytes)
                    {
                        consumed = reader.Position;
                        return BatchBodyItem.Refused(ApiError.From(ApiErrorKind.RequestTooLarge,
                            $"requests.{Count}: a request in a batch is at most {maxRequestBytes} bytes."));
                    }

                    _state = reader.CurrentState;
                    consumed = reader.Position;
                    Count++;
                    return BatchBodyItem.Request(request.ToArray());
                case Stage.Requests:
                    consumed = reader.Position;
                    return BatchBodyItem.Refused(ApiError.InvalidRequest($"requests.{Count}: Input should be a valid dictionary"));
                default:
                    // After the root object nothing but whitespace may follow; the reader itself refuses anything else.
                    break;
            }
        }
    }

    /// <summary>Anthropic's 413 for a batch over its size limit.</summary>
    public static ApiError TooLarge(long maxBytes) => ApiError.From(ApiErrorKind.RequestTooLarge,
        $"Request exceeds the maximum allowed number of bytes ({maxBytes}).");

    private static string Truncate(string? text) => text is null ? "" : text.Length <= 64 ? text : text[..64];

    private static string Describe(JsonException exception) =>
        exception.LineNumber is { } line && exception.BytePositionInLine is { } position
            ? $"invalid JSON at line {line + 1}, byte {position + 1}."
            : "invalid JSON.";
}

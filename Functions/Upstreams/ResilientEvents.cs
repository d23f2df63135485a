using System.Net.ServerSentEvents;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Protocol.Sse;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// A stream's events behind <see cref="ResilientUpstreamCaller"/>: the first read waits for the upstream's first event
/// and, while nothing has reached the client, retries or falls back when the stream resets, ends, or starts with an
/// unreadable or retryable <c>error</c> event. After the first event it is the upstream's stream, untouched. When the
/// attempts run out, the failure becomes an <c>error</c> first event, which the handlers answer as a plain HTTP error.
/// </summary>
internal sealed class ResilientEvents(ResilientCall call, UpstreamResponse first) : IAsyncEnumerator<SseItem<byte[]>>
{
    private readonly Lock _gate = new();
    private UpstreamResponse _response = first;
    private SseItem<byte[]>? _surfaced;
    private bool _started;
    private bool _disposed;

    /// <summary>The upstream response the events come from now (the latest attempt's).</summary>
    public UpstreamResponse Response
    {
        get
        {
            lock (_gate)
            {
                return _response;
            }
        }
    }

    public SseItem<byte[]> Current => _surfaced ?? Response.Events!.Current;

    public ValueTask<bool> MoveNextAsync()
    {
        if (_surfaced is not null)
        {
            return ValueTask.FromResult(false);
        }

        return _started ? Response.Events!.MoveNextAsync() : new ValueTask<bool>(FirstAsync());
    }

    public async ValueTask DisposeAsync()
    {
        UpstreamResponse response;
        lock (_gate)
        {
            _disposed = true;
            response = _response;
        }

        await response.DisposeAsync();
    }

    private async Task<bool> FirstAsync()
    {
        while (true)
        {
            var failure = await ReadFirstAsync();
            if (failure is null)
            {
                return true;
            }

            call.Failed(failure.Description);
            if (call.Call.TimeToFirstByteMs is not null)
            {
                // The response has been committed meanwhile (pings while the upstream was silent): no retry now.
                call.GaveUp(failure.Description);
                return Surface(failure.Error);
            }

            UpstreamResponse? next;
            ApiError? lastError = null;
            while (true)
            {
                next = await call.NextAttemptAsync(lastError?.RetryAfterSeconds);
                if (next is null || next.Error is not { } error)
                {
                    break;
                }

                await next.DisposeAsync();
                if (!ResilientUpstreamCaller.IsRetryable(error.Status))
                {
                    call.Succeeded();
                    return Surface(error);
                }

                lastError = error;
                call.Failed($"{error.Status} {error.Type}");
            }

            if (next is null || next.Events is null)
            {
                if (next is not null)
                {
                    await next.DisposeAsync();
                }

                var last = lastError ?? failure.Error;
                call.GaveUp($"{last.Status} {last.Type}");
                return Surface(last);
            }

            UpstreamResponse previous;
            var disposed = false;
            lock (_gate)
            {
                previous = _response;
                if (_disposed)
                {
                    disposed = true;
                }
                else
                {
                    _response = next;
                }
            }

            await previous.DisposeAsync();
            if (disposed)
            {
                await next.DisposeAsync();
                throw new OperationCanceledException(call.Aborted);
            }
        }
    }

    /// <summary>Reads the current attempt's first event; null when it is one to relay, else why it failed.</summary>
    private async Task<Failure?> ReadFirstAsync()
    {
        var events = Response.Events!;
        try
        {
            if (!await events.MoveNextAsync())
            {
                return new Failure("empty stream",
                    ApiError.From(ApiErrorKind.UpstreamUnavailable, "The upstream closed the stream without an answer."));
            }
        }
        catch (OperationCanceledException) when (call.Aborted.IsCancellationRequested)
        {
            call.Abandoned();
            throw;
        }
        catch (UpstreamProtocolException exception)
        {
            return new Failure("unreadable first event", ApiError.From(ApiErrorKind.Internal, exception.Message));
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException or OperationCanceledException)
        {
            return new Failure(exception is OperationCanceledException ? "timed out before the first event" : "connection lost before the first event",
                ApiError.From(ApiErrorKind.UpstreamUnavailable, "The upstream connection failed before the answer started."));
        }

        var item = events.Current;
        if (item.EventType == EventNames.Error)
        {
            var meter = new UsageMeter();
            meter.ObserveEvent(EventNames.Error, item.Data);
            var type = meter.ErrorType ?? ErrorTypes.Api;
            var status = ApiError.StatusForType(type);
            if (ResilientUpstreamCaller.IsRetryable(status))
            {
                return new Failure("error event " + type, new ApiError(status, type, meter.ErrorMessage ?? "The upstream failed."));
            }
        }

        // The first event is here (an error the client caused is relayed as the upstream sent it): the upstream works.
        _started = true;
        call.Succeeded();
        return null;
    }

    /// <summary>Ends the attempts with the failure as the stream's first event, an <c>error</c> the handler relays as HTTP.</summary>
    private bool Surface(ApiError error)
    {
        _surfaced = new SseItem<byte[]>(ErrorEnvelope.Claude(error, call.Call.RequestId), EventNames.Error);
        _started = true;
        return true;
    }

    private sealed record Failure(string Description, ApiError Error);
}

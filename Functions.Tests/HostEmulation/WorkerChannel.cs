using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Qhaigc.Functions.Tests.HostEmulation.Rpc;

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>
/// The host's side of one worker's <c>FunctionRpc.EventStream</c>: the handshake (StartStream, WorkerInit, metadata,
/// one FunctionLoad per function), invocations matched by id, cancellation, RpcLog capture and WorkerTerminate.
/// Every outgoing message goes through one queue and one write loop, because a gRPC stream allows one writer.
/// </summary>
internal sealed class WorkerChannel
{
    /// <summary>The worker's own HTTP server (ASP.NET Core integration); when present the host proxies HTTP to it.</summary>
    public const string HttpUriCapability = "HttpUri";

    public const string HandlesInvocationCancelCapability = "HandlesInvocationCancelMessage";

    /// <summary>What this emulator says it is; the worker only records it.</summary>
    public const string HostVersion = "4.0.0-emulated";

    private readonly Channel<StreamingMessage> _outbound = Channel.CreateUnbounded<StreamingMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StreamingMessage>> _pending = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<string> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly EmulatorLog _log;
    private int _connected;

    public WorkerChannel(string workerId, EmulatorLog log)
    {
        WorkerId = workerId;
        _log = log;
    }

    /// <summary>
    /// Waits until every request sent to the worker has its answer (or the time is up): the host lets invocations in
    /// flight finish before it terminates a worker, and an invocation whose HTTP answer is out may still be reporting.
    /// </summary>
    public async Task WaitForPendingAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!_pending.IsEmpty && !_disconnected.Task.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }

    /// <summary>The id passed to the worker (<c>--functions-worker-id</c>); its StartStream must carry it.</summary>
    public string WorkerId { get; }

    /// <summary>Called when the worker's StartStream arrives (its gRPC channel is up), before the handshake goes on.</summary>
    public Action? StreamStarted { get; set; }

    /// <summary>The capabilities from WorkerInitResponse.</summary>
    public IReadOnlyDictionary<string, string> Capabilities { get; private set; } = new Dictionary<string, string>();

    /// <summary>Completes when the worker's stream ends.</summary>
    public Task Disconnected => _disconnected.Task;

    public Uri HttpUri => Capabilities.TryGetValue(HttpUriCapability, out var uri) && Uri.TryCreate(uri, UriKind.Absolute, out var parsed)
        ? parsed
        : throw new InvalidOperationException("The worker did not report an HttpUri.");

    /// <summary>Serves the stream for as long as the worker keeps it open (called by <see cref="FunctionRpcService"/>).</summary>
    public async Task RunAsync(IAsyncStreamReader<StreamingMessage> requests, IServerStreamWriter<StreamingMessage> responses, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _connected, 1) == 1)
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists, "This emulated host serves one worker stream."));
        }

        using var stopWriting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writer = WriteLoopAsync(responses, stopWriting.Token);
        try
        {
            while (await requests.MoveNext(cancellationToken))
            {
                Dispatch(requests.Current);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or RpcException)
        {
            // The worker went away (killed, or closed the connection after WorkerTerminate).
        }
        finally
        {
            await stopWriting.CancelAsync();
            try
            {
                await writer;
            }
            catch (Exception exception) when (exception is OperationCanceledException or IOException or InvalidOperationException)
            {
            }

            _disconnected.TrySetResult();
            foreach (var (_, pending) in _pending)
            {
                pending.TrySetException(new InvalidOperationException("The worker's stream ended before it answered."));
            }
        }
    }

    /// <summary>StartStream, WorkerInit, FunctionsMetadata and FunctionLoad; returns the loaded functions.</summary>
    public async Task<IReadOnlyList<RpcFunctionMetadata>> InitializeAsync(FunctionsAppOutput app, CancellationToken cancellationToken)
    {
        // The host's own limits (WorkerProcessCountOptions): 60 s to connect, 10 s to initialize, 60 s to load.
        var workerId = await _started.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        if (workerId != WorkerId)
        {
            throw new InvalidOperationException($"StartStream came from worker '{workerId}', not '{WorkerId}'.");
        }

        var init = await SendAndWaitAsync("init", new StreamingMessage
        {
            WorkerInitRequest = new WorkerInitRequest
            {
                HostVersion = HostVersion,
                WorkerDirectory = app.Directory,
                FunctionAppDirectory = app.Directory,
            },
        }, TimeSpan.FromSeconds(10), cancellationToken);
        EnsureSuccess(init.WorkerInitResponse.Result, "WorkerInit");
        Capabilities = new Dictionary<string, string>(init.WorkerInitResponse.Capabilities, StringComparer.Ordinal);
        if (!Capabilities.ContainsKey(HttpUriCapability))
        {
            throw new InvalidOperationException(
                "The worker did not report an HttpUri capability: only the ASP.NET Core integration is emulated.");
        }

        // Worker indexing (worker.config.json: workerIndexing): the worker lists its functions itself.
        var metadata = await SendAndWaitAsync("metadata", new StreamingMessage
        {
            FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = app.Directory },
        }, TimeSpan.FromSeconds(60), cancellationToken);
        var response = metadata.FunctionMetadataResponse;
        if (response.UseDefaultMetadataIndexing)
        {
            throw new NotSupportedException("The worker asked the host to index functions.metadata itself; the emulator only does worker indexing.");
        }

        if (response.Result is not null)
        {
            EnsureSuccess(response.Result, "FunctionsMetadata");
        }

        // The ids from the metadata response are the ones invocations must use (functions.metadata ids are new each time).
        var loads = response.FunctionMetadataResults.Select(function => LoadAsync(function, cancellationToken));
        await Task.WhenAll(loads);
        return response.FunctionMetadataResults;
    }

    /// <summary>Sends the invocation; the task completes with the worker's InvocationResponse.</summary>
    public Task<StreamingMessage> InvokeAsync(InvocationRequest request, CancellationToken cancellationToken) =>
        SendAndWaitAsync(InvocationKey(request.InvocationId), new StreamingMessage { InvocationRequest = request }, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Tells the worker an invocation was cancelled, as the host does when the worker handles InvocationCancel.</summary>
    public bool TryCancel(string invocationId)
    {
        if (!Capabilities.TryGetValue(HandlesInvocationCancelCapability, out var handles) ||
            !bool.TryParse(handles, out var enabled) || !enabled)
        {
            return false;
        }

        Send(new StreamingMessage { InvocationCancel = new InvocationCancel { InvocationId = invocationId } });
        return true;
    }

    public void Terminate(TimeSpan gracePeriod) =>
        Send(new StreamingMessage { WorkerTerminate = new WorkerTerminate { GracePeriod = Duration.FromTimeSpan(gracePeriod) } });

    private async Task LoadAsync(RpcFunctionMetadata function, CancellationToken cancellationToken)
    {
        // The metadata goes back as the worker sent it: fields this proto subset lacks survive as unknown fields.
        var loaded = await SendAndWaitAsync("load:" + function.FunctionId, new StreamingMessage
        {
            FunctionLoadRequest = new FunctionLoadRequest { FunctionId = function.FunctionId, Metadata = function },
        }, TimeSpan.FromSeconds(60), cancellationToken);
        EnsureSuccess(loaded.FunctionLoadResponse.Result, $"FunctionLoad of {function.Name}");
    }

    private async Task<StreamingMessage> SendAndWaitAsync(string key, StreamingMessage message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<StreamingMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.TryAdd(key, answer))
        {
            throw new InvalidOperationException($"A request '{key}' is already waiting for the worker.");
        }

        try
        {
            if (_disconnected.Task.IsCompleted)
            {
                throw new InvalidOperationException("The worker's stream has ended.");
            }

            message.RequestId = Guid.NewGuid().ToString();
            Send(message);
            return await answer.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException exception)
        {
            throw new TimeoutException($"The worker did not answer {message.ContentCase} within {timeout}.", exception);
        }
        finally
        {
            _pending.TryRemove(key, out _);
        }
    }

    private void Send(StreamingMessage message)
    {
        if (!_outbound.Writer.TryWrite(message))
        {
            throw new InvalidOperationException("The worker's stream is closed.");
        }
    }

    private async Task WriteLoopAsync(IServerStreamWriter<StreamingMessage> responses, CancellationToken cancellationToken)
    {
        await foreach (var message in _outbound.Reader.ReadAllAsync(cancellationToken))
        {
            await responses.WriteAsync(message, cancellationToken);
        }
    }

    private void Dispatch(StreamingMessage message)
    {
        switch (message.ContentCase)
        {
            case StreamingMessage.ContentOneofCase.StartStream:
                StreamStarted?.Invoke();
                _started.TrySetResult(message.StartStream.WorkerId);
                break;
            case StreamingMessage.ContentOneofCase.RpcLog:
                _log.Add(Format(message.RpcLog));
                break;
            case StreamingMessage.ContentOneofCase.WorkerInitResponse:
                Complete("init", message);
                break;
            case StreamingMessage.ContentOneofCase.FunctionMetadataResponse:
                Complete("metadata", message);
                break;
            case StreamingMessage.ContentOneofCase.FunctionLoadResponse:
                Complete("load:" + message.FunctionLoadResponse.FunctionId, message);
                break;
            case StreamingMessage.ContentOneofCase.InvocationResponse:
                Complete(InvocationKey(message.InvocationResponse.InvocationId), message);
                break;
            case StreamingMessage.ContentOneofCase.None:
                // The worker answers WorkerTerminate with an empty message; other kinds are outside this subset.
                break;
            default:
                _log.Add($"host: no handler for {message.ContentCase} from the worker");
                break;
        }
    }

    private void Complete(string key, StreamingMessage message)
    {
        if (!_pending.TryGetValue(key, out var pending) || !pending.TrySetResult(message))
        {
            _log.Add($"host: unexpected {message.ContentCase} ({key})");
        }
    }

    private static string InvocationKey(string invocationId) => "invocation:" + invocationId;

    private static void EnsureSuccess(StatusResult? result, string step)
    {
        if (result?.Status != StatusResult.Types.Status.Success)
        {
            throw new InvalidOperationException($"{step} failed: {result?.Exception?.Message ?? result?.Result ?? "no result"}");
        }
    }

    private static string Format(RpcLog log)
    {
        var builder = new StringBuilder("worker log ").Append(log.Level).Append(' ').Append(log.Category);
        if (log.EventId.Length > 0)
        {
            builder.Append('[').Append(log.EventId).Append(']');
        }

        if (log.InvocationId.Length > 0)
        {
            builder.Append(" (invocation ").Append(log.InvocationId).Append(')');
        }

        builder.Append(' ').Append(log.Message);
        if (log.Properties.Length > 0)
        {
            builder.Append(" | ").Append(log.Properties);
        }

        foreach (var (key, value) in log.PropertiesMap)
        {
            builder.Append(" | ").Append(key).Append('=').Append(value.DataCase switch
            {
                TypedData.DataOneofCase.String => value.String,
                TypedData.DataOneofCase.Json => value.Json,
                TypedData.DataOneofCase.Int => value.Int.ToString(CultureInfo.InvariantCulture),
                TypedData.DataOneofCase.Double => value.Double.ToString(CultureInfo.InvariantCulture),
                _ => value.ToString(),
            });
        }

        if (log.Exception is { } exception)
        {
            builder.Append(" | ").Append(exception.Type).Append(": ").Append(exception.Message).Append(' ').Append(exception.StackTrace);
        }

        return builder.ToString();
    }
}

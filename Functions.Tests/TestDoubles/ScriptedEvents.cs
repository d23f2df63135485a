using System.Net.ServerSentEvents;
using System.Text;

namespace Qhaigc.Functions.Tests.TestDoubles;

/// <summary>
/// An upstream event stream in Claude's format, scripted step by step: events, a failure, and gates that hold the next
/// read until the test releases them (a silent upstream). A read that waits on a gate ends with the cancellation of
/// the token the stream was given, as a real upstream read does when the client leaves. Remembers its disposal, so a
/// test sees whether the gateway released the upstream.
/// </summary>
public sealed class ScriptedEvents : IAsyncEnumerator<SseItem<ReadOnlyMemory<byte>>>
{
    private readonly List<Step> _steps = [];
    private readonly TaskCompletionSource _reading = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationToken _cancellation;
    private Task? _gate;
    private int _next;

    public ScriptedEvents(CancellationToken cancellation = default) => _cancellation = cancellation;

    public SseItem<ReadOnlyMemory<byte>> Current { get; private set; }

    /// <summary>True once the gateway disposed the stream (released the upstream).</summary>
    public bool Disposed { get; private set; }

    /// <summary>Completes when a read first waits on a gate: the reader is now waiting on the upstream.</summary>
    public Task Waiting => _reading.Task;

    /// <summary>The events of a recorded <c>.sse</c> text, in order.</summary>
    public static ScriptedEvents FromSse(string sse, CancellationToken cancellation = default)
    {
        var events = new ScriptedEvents(cancellation);
        foreach (var (name, data) in Fixtures.ParseEvents(sse))
        {
            events.Event(name, data);
        }

        return events;
    }

    /// <summary>Reads that wait on a gate end with this token's cancellation (the upstream call's token).</summary>
    public ScriptedEvents CancelledBy(CancellationToken cancellation)
    {
        _cancellation = cancellation;
        return this;
    }

    public ScriptedEvents Event(string type, string data)
    {
        _steps.Add(new Step(new SseItem<ReadOnlyMemory<byte>>(Encoding.UTF8.GetBytes(data), type), null, TakeGate()));
        return this;
    }

    /// <summary>The next read fails with <paramref name="exception"/> (a reset connection, an unreadable event).</summary>
    public ScriptedEvents Fail(Exception exception)
    {
        _steps.Add(new Step(default, exception, TakeGate()));
        return this;
    }

    /// <summary>The next step (or the end of the stream) comes only once <paramref name="gate"/> completes.</summary>
    public ScriptedEvents WaitFor(Task gate)
    {
        _gate = gate;
        return this;
    }

    public ValueTask<bool> MoveNextAsync()
    {
        var gate = _next < _steps.Count ? _steps[_next].Gate : _gate;
        if (gate is { IsCompleted: false })
        {
            return WaitThenTakeAsync(gate);
        }

        try
        {
            return new ValueTask<bool>(Take());
        }
        catch (Exception exception)
        {
            return ValueTask.FromException<bool>(exception);
        }
    }

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }

    private async ValueTask<bool> WaitThenTakeAsync(Task gate)
    {
        _reading.TrySetResult();
        await gate.WaitAsync(_cancellation);
        return Take();
    }

    private bool Take()
    {
        ObjectDisposedException.ThrowIf(Disposed, this);
        if (_next >= _steps.Count)
        {
            return false;
        }

        var step = _steps[_next++];
        if (step.Failure is { } failure)
        {
            throw failure;
        }

        Current = step.Item;
        return true;
    }

    private Task? TakeGate()
    {
        var gate = _gate;
        _gate = null;
        return gate;
    }

    private readonly record struct Step(SseItem<ReadOnlyMemory<byte>> Item, Exception? Failure, Task? Gate);
}

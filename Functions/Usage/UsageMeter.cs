using System.Runtime.CompilerServices;
using System.Text;
using Qhaigc.Functions.Protocol.Sse;

namespace Qhaigc.Functions.Usage;

/// <summary>
/// Counts usage from what passes through, without re-serializing it: the usage of a whole message, or of a stream
/// from <c>message_start</c> and <c>message_delta</c> (docs/wire-contract.md#84-usage-in-a-stream). Only those events and <c>error</c> are parsed;
/// deltas are not looked at.
/// </summary>
public sealed partial class UsageMeter
{
    /// <summary>The raw usage text's members (docs/usage-records.md).</summary>
    private const string StartMember = "\"message_start\":";
    private const string DeltaMember = "\"message_delta\":";

    private readonly TokenUsage _usage = new();
    private byte[]? _startUsage;
    private byte[]? _deltaUsage;

    /// <summary>Whether a stream's usage events changed since <see cref="TokenUsage.Raw"/> was last composed.</summary>
    private bool _rawStale;

    /// <summary>
    /// What was counted. A stream's raw usage text is composed when this is read (once, when the call is recorded),
    /// not at each usage event.
    /// </summary>
    public TokenUsage Usage
    {
        get
        {
            if (_rawStale)
            {
                _usage.Raw = ComposeRaw();
                _rawStale = false;
            }

            return _usage;
        }
    }

    public string? MessageId { get; private set; }

    public string? StopReason { get; private set; }

    public bool SawMessageStart { get; private set; }

    public bool SawMessageDelta { get; private set; }

    public bool SawMessageStop { get; private set; }

    /// <summary>Output text characters seen in deltas, for an estimate when a stream ends without a final count.</summary>
    public long OutputCharacters { get; private set; }

    public string? ErrorType { get; private set; }

    public string? ErrorMessage { get; private set; }

    /// <summary>Reads a non-streaming message body.</summary>
    public void ObserveMessage(ReadOnlySpan<byte> json)
    {
        if (!TryReadObject(json, out var top))
        {
            // A body we cannot read is relayed as it is; the record then says the usage is unknown (zero).
            return;
        }

        var message = top.Own;
        MessageId = message.Id;
        StopReason = message.StopReason;
        if (message.Usage is { } usage)
        {
            Apply(usage);
            _usage.Raw = Encoding.UTF8.GetString(usage.Raw);
        }
    }

    /// <summary>Looks at one SSE event; cheap for the events it does not need.</summary>
    public void ObserveEvent(string eventType, ReadOnlySpan<byte> data)
    {
        switch (eventType)
        {
            case EventNames.ContentBlockDelta:
                // Only a length: enough to estimate output when a stream is cut before message_delta.
                OutputCharacters += data.Length;
                return;
            case EventNames.MessageStart:
                SawMessageStart = true;
                ReadMessageStart(data);
                break;
            case EventNames.MessageDelta:
                SawMessageDelta = true;
                ReadMessageDelta(data);
                break;
            case EventNames.MessageStop:
                SawMessageStop = true;
                return;
            case EventNames.Error:
                ReadError(data);
                ErrorType ??= Protocol.ErrorTypes.Api;
                break;
            default:
                return;
        }

        _rawStale = true;
    }

    /// <summary>
    /// For a stream that ended without its final <c>message_delta</c> (client gone, upstream cut): estimate output from
    /// the characters seen (about four per token) and mark the usage estimated (docs/wire-contract.md#84-usage-in-a-stream).
    /// </summary>
    public void EstimateIfIncomplete()
    {
        if (SawMessageDelta)
        {
            return;
        }

        _usage.OutputTokens = Math.Max(_usage.OutputTokens, (OutputCharacters + 3) / 4);
        _usage.Estimated = true;
    }

    // The three readers below stay out of ObserveEvent: inlined there, their large locals would be cleared for every
    // delta too (docs/performance.md#cpu-per-streamed-event).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReadMessageStart(ReadOnlySpan<byte> data)
    {
        if (TryReadObject(data, out var start) && start.Message is { } message)
        {
            MessageId = message.Id;
            if (message.Usage is { } usage)
            {
                Apply(usage);
                _startUsage = usage.Raw;
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReadMessageDelta(ReadOnlySpan<byte> data)
    {
        if (TryReadObject(data, out var delta))
        {
            StopReason = delta.Delta?.StopReason ?? StopReason;
            if (delta.Own.Usage is { } usage)
            {
                // Cumulative: later values overwrite, never add (docs/wire-contract.md#84-usage-in-a-stream).
                Apply(usage);
                _deltaUsage = usage.Raw;
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReadError(ReadOnlySpan<byte> data)
    {
        if (TryReadObject(data, out var failure) && failure.Error is { } error)
        {
            ErrorType = error.Type;
            ErrorMessage = error.Message;
        }
    }

    /// <summary>Takes in a usage object's counts; a field it does not carry keeps its value.</summary>
    private void Apply(UsageObject usage)
    {
        _usage.InputTokens = usage.InputTokens ?? _usage.InputTokens;
        _usage.OutputTokens = usage.OutputTokens ?? _usage.OutputTokens;
        _usage.CacheCreationInputTokens = usage.CacheCreationInputTokens ?? _usage.CacheCreationInputTokens;
        _usage.CacheReadInputTokens = usage.CacheReadInputTokens ?? _usage.CacheReadInputTokens;
        _usage.WebSearchRequests = usage.WebSearchRequests ?? _usage.WebSearchRequests;
        _usage.WebFetchRequests = usage.WebFetchRequests ?? _usage.WebFetchRequests;
        _usage.ServiceTier = usage.ServiceTier ?? _usage.ServiceTier;
        _usage.Speed = usage.Speed ?? _usage.Speed;
        _usage.InferenceGeo = usage.InferenceGeo ?? _usage.InferenceGeo;
        _usage.CacheCreation5mInputTokens = usage.CacheCreation5mInputTokens ?? _usage.CacheCreation5mInputTokens;
        _usage.CacheCreation1hInputTokens = usage.CacheCreation1hInputTokens ?? _usage.CacheCreation1hInputTokens;
    }

    private string? ComposeRaw()
    {
        if (_startUsage is null && _deltaUsage is null)
        {
            return null;
        }

        // One allocation, the string itself, decoded from the two objects' bytes as they came.
        var (firstMember, first, second) = _startUsage is null ? (DeltaMember, _deltaUsage!, null) : (StartMember, _startUsage, _deltaUsage);
        var length = 1 + firstMember.Length + Encoding.UTF8.GetCharCount(first) + 1 +
                     (second is null ? 0 : DeltaMember.Length + 1 + Encoding.UTF8.GetCharCount(second));
        return string.Create(length, (firstMember, first, second), static (text, parts) =>
        {
            var (firstMember, first, second) = parts;
            var at = 0;
            text[at++] = '{';
            firstMember.CopyTo(text[at..]);
            at += firstMember.Length;
            at += Encoding.UTF8.GetChars(first, text[at..]);
            if (second is not null)
            {
                text[at++] = ',';
                DeltaMember.CopyTo(text[at..]);
                at += DeltaMember.Length;
                at += Encoding.UTF8.GetChars(second, text[at..]);
            }

            text[at] = '}';
        });
    }
}

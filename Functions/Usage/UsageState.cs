using System.Text.Json.Serialization;

namespace Qhaigc.Functions.Usage;

/// <summary>
/// How a call ended (docs/usage-records.md). Stored and shown by its wire name (<c>complete</c>, <c>truncated</c>,
/// <c>cancelled</c>, <c>failed</c>), <see cref="UsageStates"/>.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<UsageState>))]
public enum UsageState
{
    /// <summary>The answer reached the client whole.</summary>
    [JsonStringEnumMemberName("complete")]
    Complete,

    /// <summary>The upstream failed after the answer had started.</summary>
    [JsonStringEnumMemberName("truncated")]
    Truncated,

    /// <summary>The client went away before the answer was complete.</summary>
    [JsonStringEnumMemberName("cancelled")]
    Cancelled,

    /// <summary>No answer: refused by the gateway or failed upstream before the first byte.</summary>
    [JsonStringEnumMemberName("failed")]
    Failed,
}

/// <summary>The wire names of <see cref="UsageState"/>, as the usage table and the admin API hold them.</summary>
public static class UsageStates
{
    public static string ToWire(this UsageState state) => state switch
    {
        UsageState.Complete => "complete",
        UsageState.Truncated => "truncated",
        UsageState.Cancelled => "cancelled",
        UsageState.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    /// <summary>The state a stored name stands for; an unknown name (a row written by a later version) reads as failed.</summary>
    public static UsageState FromWire(string? name) => name switch
    {
        "complete" => UsageState.Complete,
        "truncated" => UsageState.Truncated,
        "cancelled" => UsageState.Cancelled,
        _ => UsageState.Failed,
    };
}

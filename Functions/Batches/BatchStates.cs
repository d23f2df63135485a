using System.Text.Json;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Batches;

/// <summary>A <see cref="BatchState"/> as the JSON state of its owned object.</summary>
public static class BatchStates
{
    /// <summary>The state kept with a batch; a new state when there is none. Throws <see cref="JsonException"/> for unreadable JSON.</summary>
    public static BatchState Read(string? json) =>
        string.IsNullOrEmpty(json) ? new BatchState() : JsonSerializer.Deserialize(json, GatewayJsonContext.Default.BatchState) ?? new BatchState();

    public static string Write(BatchState state) => JsonSerializer.Serialize(state, GatewayJsonContext.Default.BatchState);
}

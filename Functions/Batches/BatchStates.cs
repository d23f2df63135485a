using System.Text.Json;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Batches;

/// <summary>A batch's <see cref="BatchState"/> as the JSON of its owned object, through the gateway's one JSON context.</summary>
public static class BatchStates
{
    public static string Write(BatchState state) => JsonSerializer.Serialize(state, GatewayJsonContext.Default.BatchState);

    public static BatchState Read(string? json) =>
        string.IsNullOrEmpty(json) ? new BatchState() : JsonSerializer.Deserialize(json, GatewayJsonContext.Default.BatchState) ?? new BatchState();
}

using System.Text.Json;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// A batch's worst case, summed request by request as the batch is read (the batch is never held whole): each request's
/// input bound and <c>max_tokens</c>, its server tools, at the batch price of the model that serves it.
/// </summary>
public abstract class BatchCostTally
{
    /// <summary>Adds one validated request, <paramref name="servedModel"/> being its model after <c>ModelMap</c>.</summary>
    /// <returns>Null, or why a capped key cannot run this request (an unpriced model, option or tool).</returns>
    public abstract ApiError? Add(JsonElement request, string servedModel, string? anthropicBeta);

    /// <summary>The worst case so far, in micro-units of the price table's currency.</summary>
    public abstract long WorstCaseMicros { get; }
}

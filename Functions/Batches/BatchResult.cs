using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// What settlement keeps of one line of a batch's results: its place in the file, its type (<c>succeeded</c>,
/// <c>errored</c>, <c>canceled</c>, <c>expired</c>), the model and message id of a success, its usage, the error type of
/// a failure. Never the <c>custom_id</c>, the request or the answer.
/// </summary>
public sealed record BatchResult(int Index, string Type, string? Model, string? MessageId, TokenUsage? Usage, string? ErrorType)
{
    public const string Succeeded = "succeeded";
    public const string Errored = "errored";
    public const string Canceled = "canceled";
    public const string Expired = "expired";
}

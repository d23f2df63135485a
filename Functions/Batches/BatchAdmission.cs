using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Batches;

/// <summary>Whether a new batch fits its key's limits: what it reserved, or the error that refuses it (<c>402</c>, <c>429</c>).</summary>
public sealed record BatchAdmission(Reserved? Reserved, ApiError? Refusal)
{
    public bool Admitted => Refusal is null;
}

using Qhaigc.Functions.Governance;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// What the gateway keeps about a message batch, as the JSON state of its <see cref="Ownership.OwnedObject"/>
/// (docs/batches.md): written when the batch is created, refreshed as its status is read, and advanced by settlement.
/// Never the requests' text nor their <c>custom_id</c>s.
/// </summary>
public sealed record BatchState
{
    /// <summary>Anthropic's <c>processing_status</c> as last seen: <c>in_progress</c>, <c>canceling</c> or <c>ended</c>.</summary>
    public string ProcessingStatus { get; init; } = "in_progress";

    /// <summary>How many requests the batch holds.</summary>
    public int RequestCount { get; init; }

    /// <summary>What creating the batch reserved against the key's limits; null when nothing was reserved.</summary>
    public Reserved? Reserved { get; init; }

    /// <summary>The batch's models as served upstream (after <c>ModelMap</c>), for pricing its results.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];

    /// <summary>
    /// For each of <see cref="Models"/>, the model the batch's requests named for it (the first such name when several
    /// map to one), so that a result's record names the model the client asked for, as a call's does. Empty for a batch
    /// kept before this was: its records name the model as the upstream reported it.
    /// </summary>
    public IReadOnlyDictionary<string, string> AskedModels { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Results already written as usage records by a settlement that has not finished (it resumes from here).</summary>
    public int ResultsRecorded { get; init; }

    /// <summary>When settlement finished: every result recorded and the reservation settled; null before.</summary>
    public DateTimeOffset? SettledAt { get; init; }

    /// <summary>
    /// When the key deleted the batch: the upstream no longer holds it and the key no longer sees it, but the object
    /// stays until settlement has recorded it (docs/batches.md#ownership).
    /// </summary>
    public DateTimeOffset? DeletedAt { get; init; }

    /// <summary>
    /// Since when the upstream has answered that it does not know the batch, without a description in between; null
    /// while it knows it. The batch is billed as gone only once this is old enough (<see cref="BatchSettlementOptions.GoneAfter"/>).
    /// </summary>
    public DateTimeOffset? GoneSince { get; init; }

    /// <summary>The batch as its upstream last described it (Anthropic's <c>message_batch</c> object, JSON), for lists.</summary>
    public string? LastSeen { get; init; }
}

namespace Qhaigc.Functions.Admin.Upstreams;

/// <summary>
/// One deployment: its pool (the model patterns it serves, its priority and weight), whether it takes calls, and its
/// attempts and failures over the last five minutes on this instance, with the state of each model it served.
/// </summary>
public sealed record UpstreamView(
    string Name,
    IReadOnlyList<string> Models,
    int Priority,
    int Weight,
    string State,
    DateTimeOffset? RestingUntil,
    string? Reason,
    int Calls,
    int Failures,
    IReadOnlyList<UpstreamModelView> ModelStates);

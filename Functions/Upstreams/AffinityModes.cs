namespace Qhaigc.Functions.Upstreams;

/// <summary>The values of <c>Gateway:Routing:Affinity</c> (docs/configuration.md#pools-and-affinity).</summary>
public static class AffinityModes
{
    /// <summary>The conversation: <c>X-Claude-Code-Session-Id</c>, else <c>metadata.user_id</c>, else the key's id.</summary>
    public const string Session = "session";

    /// <summary>The client key's id alone.</summary>
    public const string Key = "key";

    /// <summary>No affinity: each call picks a member at random, by weight.</summary>
    public const string None = "none";

    public static string Normalize(string? mode) => string.IsNullOrWhiteSpace(mode) ? Session : mode.Trim().ToLowerInvariant();

    public static bool IsKnown(string? mode) => Normalize(mode) is Session or Key or None;
}

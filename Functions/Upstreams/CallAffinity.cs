using System.Text.Json;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// What may keep a call on one member of an upstream pool: the client's session header, its <c>metadata.user_id</c>
/// and its key's id (docs/configuration.md#pools-and-affinity). Which of them counts is the router's setting.
/// </summary>
public readonly record struct CallAffinity(string? SessionId, string? UserId, string? KeyId)
{
    /// <summary>Longest value taken into account; a longer one is cut, so no client can make hashing expensive.</summary>
    private const int MaxLength = 256;

    /// <summary>The affinity of a request: its <c>X-Claude-Code-Session-Id</c>, its <c>metadata.user_id</c>, its key's id.</summary>
    public static CallAffinity Of(string? sessionHeader, MessagesRequest request, string? keyId) =>
        new(Cut(sessionHeader), Cut(UserIdOf(request.Root)), keyId);

    /// <summary>The value that places the call under <paramref name="mode"/>; null for a weighted random choice.</summary>
    public string? KeyFor(string mode) => mode switch
    {
        AffinityModes.None => null,
        AffinityModes.Key => Prefixed("k:", KeyId),
        _ => Prefixed("s:", SessionId) ?? Prefixed("u:", UserId) ?? Prefixed("k:", KeyId),
    };

    private static string? Prefixed(string prefix, string? value) => string.IsNullOrEmpty(value) ? null : prefix + value;

    private static string? Cut(string? value) => value is { Length: > MaxLength } ? value[..MaxLength] : value;

    private static string? UserIdOf(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("metadata"u8, out var metadata) &&
        metadata.ValueKind == JsonValueKind.Object && metadata.TryGetProperty("user_id"u8, out var user) &&
        user.ValueKind == JsonValueKind.String
            ? user.GetString()
            : null;
}

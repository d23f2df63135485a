using System.Text.Json;
using Qhaigc.Functions.Admin.Keys;

namespace Qhaigc.Functions.Customer;

/// <summary>
/// <c>GET /v1/gateway/key</c> (docs/console.md#the-customer-endpoint): the calling key as its holder may see it: never a
/// secret, another secret's hint or anything of another key.
/// </summary>
public sealed record CustomerKeyView
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    /// <summary>The hint of the secret the call was made with.</summary>
    public required string Hint { get; init; }

    /// <summary>The model patterns the key may use; empty: every model.</summary>
    public required IReadOnlyList<string> Models { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The key's limits and spend cap, as the operator set them (docs/limits-and-prices.md#limits-of-a-key).</summary>
    public JsonElement? Limits { get; init; }

    /// <summary>Its counters as they stand: this minute's requests and tokens, this period's spend (only for a key with limits).</summary>
    public LimitState? Current { get; init; }
}

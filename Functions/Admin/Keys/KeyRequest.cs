using System.Text.Json;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Keys;

namespace Qhaigc.Functions.Admin.Keys;

/// <summary>
/// The body of <c>POST /manage/keys</c> and of <c>PATCH /manage/keys/{id}</c> (see docs/admin-api.md): one schema, each
/// field's rule written once here. It is read field by field rather than deserialized, because a PATCH must tell a
/// field that is absent (keep) from one that is <c>null</c> (clear). Field names match case-insensitively, as the
/// JSON defaults for the web do.
/// </summary>
public sealed class KeyRequest
{
    public const int MaxNameLength = 200;

    private const string Updatable = "name, disabled, models, expiresAt, limits";

    private KeyRequest()
    {
    }

    /// <summary>The new name, trimmed; null when absent.</summary>
    public string? Name { get; private set; }

    /// <summary>Null when absent; never set by <see cref="KeyRequestMode.Create"/>.</summary>
    public bool? Disabled { get; private set; }

    /// <summary>Model patterns, blank ones dropped, trimmed, without duplicates; empty when cleared, null when absent.</summary>
    public IReadOnlyList<string>? Models { get; private set; }

    public bool HasExpiresAt { get; private set; }

    /// <summary>With <see cref="HasExpiresAt"/>: the expiry, or null for none.</summary>
    public DateTimeOffset? ExpiresAt { get; private set; }

    public bool HasLimits { get; private set; }

    /// <summary>With <see cref="HasLimits"/>: the checked <c>limits</c> object as sent, or null for none.</summary>
    public string? LimitsJson { get; private set; }

    /// <summary>
    /// Reads and checks <paramref name="body"/> (an object); null and the message of a 400, in the API's
    /// <c>field: problem</c> form, when a field breaks its rule.
    /// </summary>
    public static KeyRequest? Read(JsonElement body, KeyRequestMode mode, DateTimeOffset now, out string? error)
    {
        var request = new KeyRequest();
        foreach (var property in body.EnumerateObject())
        {
            error = request.ReadField(property, mode);
            if (error is not null)
            {
                return null;
            }
        }

        error = mode == KeyRequestMode.Create ? request.CreateRules(now) : null;
        return error is null ? request : null;
    }

    /// <summary>The key with every field this request carries applied; the others as they were.</summary>
    public ApiKey ApplyTo(ApiKey key) => key with
    {
        Name = Name ?? key.Name,
        Disabled = Disabled ?? key.Disabled,
        Models = Models ?? key.Models,
        ExpiresAt = HasExpiresAt ? ExpiresAt : key.ExpiresAt,
        LimitsJson = HasLimits ? LimitsJson : key.LimitsJson,
    };

    private string? ReadField(JsonProperty property, KeyRequestMode mode)
    {
        var value = property.Value;
        switch (property.Name.ToLowerInvariant())
        {
            case "name":
                if (value.ValueKind != JsonValueKind.String)
                {
                    return "name: Input should be a valid string";
                }

                var name = value.GetString()!;
                if (string.IsNullOrWhiteSpace(name))
                {
                    return "name: String should have at least 1 character";
                }

                if (mode == KeyRequestMode.Create && name.Length > MaxNameLength)
                {
                    return $"name: String should have at most {MaxNameLength} characters";
                }

                Name = name.Trim();
                return null;

            case "disabled" when mode == KeyRequestMode.Update:
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    return "disabled: Input should be a valid boolean";
                }

                Disabled = value.GetBoolean();
                return null;

            case "models":
                if (value.ValueKind == JsonValueKind.Null)
                {
                    Models = [];
                    return null;
                }

                if (value.ValueKind != JsonValueKind.Array ||
                    !value.EnumerateArray().All(static m => m.ValueKind is JsonValueKind.String or JsonValueKind.Null))
                {
                    return "models: Input should be a valid list of strings";
                }

                Models = value.EnumerateArray().Select(static m => m.GetString()).Where(static m => !string.IsNullOrWhiteSpace(m))
                    .Select(static m => m!.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
                return null;

            case "expiresat":
                if (value.ValueKind == JsonValueKind.Null)
                {
                    (HasExpiresAt, ExpiresAt) = (true, null);
                    return null;
                }

                if (value.ValueKind != JsonValueKind.String || !value.TryGetDateTimeOffset(out var expiresAt))
                {
                    return "expiresAt: Input should be a valid ISO 8601 date and time";
                }

                (HasExpiresAt, ExpiresAt) = (true, expiresAt);
                return null;

            case "limits":
                if (KeyLimits.Parse(value, out var limitsError) is null)
                {
                    return limitsError;
                }

                (HasLimits, LimitsJson) = (true, value.ValueKind == JsonValueKind.Object ? value.GetRawText() : null);
                return null;

            default:
                // A new key ignores what it does not take, as the API always has; a PATCH names every field it changes.
                return mode == KeyRequestMode.Update ? $"{property.Name}: unknown field (updatable: {Updatable})" : null;
        }
    }

    /// <summary>What only a new key must have.</summary>
    private string? CreateRules(DateTimeOffset now)
    {
        if (Name is null)
        {
            return "name: Field required";
        }

        return ExpiresAt is { } expires && expires <= now ? "expiresAt: must be in the future" : null;
    }
}

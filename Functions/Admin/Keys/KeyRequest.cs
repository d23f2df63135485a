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

    /// <summary>Model patterns per key at most.</summary>
    public const int MaxModels = 100;

    /// <summary>Longest model pattern: model names over 256 characters are refused at validation, so no longer pattern matches more.</summary>
    public const int MaxModelPatternLength = 256;

    private const string Fields = "name, disabled, models, expiresAt, limits";

    private KeyRequest()
    {
    }

    /// <summary>The new name, trimmed; null when absent.</summary>
    public string? Name { get; private set; }

    /// <summary>Null when absent.</summary>
    public bool? Disabled { get; private set; }

    /// <summary>Model patterns, blank ones dropped, trimmed, without duplicates; empty when cleared, null when absent.</summary>
    public IReadOnlyList<string>? Models { get; private set; }

    public bool HasExpiresAt { get; private set; }

    /// <summary>With <see cref="HasExpiresAt"/>: the expiry, or null for none.</summary>
    public DateTimeOffset? ExpiresAt { get; private set; }

    public bool HasLimits { get; private set; }

    /// <summary>With <see cref="HasLimits"/>: the checked <c>limits</c> object as sent, or null for none.</summary>
    public string? LimitsJson { get; private set; }

    /// <summary>True when the request sets a spend cap (which only a priced model can ever count against).</summary>
    public bool SetsSpendCap { get; private set; }

    /// <summary>
    /// Reads and checks <paramref name="body"/> (an object); null and the message of a 400, in the API's
    /// <c>field: problem</c> form, when a field breaks its rule.
    /// </summary>
    public static KeyRequest? Read(JsonElement body, KeyRequestMode mode, DateTimeOffset now, out string? error)
    {
        var request = new KeyRequest();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in body.EnumerateObject())
        {
            // Names match case-insensitively, so "name" and "Name" are one field given twice: refused, not last-wins.
            if (!seen.Add(property.Name))
            {
                error = $"{Shown(property.Name)}: field given more than once";
                return null;
            }

            error = request.ReadField(property);
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

    private string? ReadField(JsonProperty property)
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

                if (name.Trim().Length > MaxNameLength)
                {
                    return $"name: String should have at most {MaxNameLength} characters";
                }

                Name = name.Trim();
                return null;

            case "disabled":
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

                return ReadModels(value);

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
                if (KeyLimits.Parse(value, out var limitsError) is not { } limits)
                {
                    return limitsError;
                }

                (HasLimits, LimitsJson) = (true, value.ValueKind == JsonValueKind.Object ? value.GetRawText() : null);
                SetsSpendCap = limits.SpendCapMicros is not null;
                return null;

            default:
                // Both calls refuse what they do not take: a misspelt or unsupported field would otherwise change
                // nothing without a word (a new key sent "disabled": true used to come out enabled).
                return $"{Shown(property.Name)}: unknown field (known: {Fields})";
        }
    }

    /// <summary>
    /// The patterns, blank ones dropped, trimmed, without duplicates. A key's patterns are stored comma-separated, so a
    /// comma inside one would become two patterns on the next read (<c>claude-haiku*,*</c> would allow every model).
    /// </summary>
    private string? ReadModels(JsonElement value)
    {
        var models = value.EnumerateArray().Select(static m => m.GetString()).Where(static m => !string.IsNullOrWhiteSpace(m))
            .Select(static m => m!.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        if (models.Length > MaxModels)
        {
            return $"models: List should have at most {MaxModels} items";
        }

        foreach (var model in models)
        {
            if (model.Length > MaxModelPatternLength)
            {
                return $"models: a pattern should have at most {MaxModelPatternLength} characters";
            }

            if (model.Contains(',', StringComparison.Ordinal))
            {
                return $"models: a pattern may not contain a comma ('{Shown(model)}'); give each pattern as its own list item";
            }
        }

        Models = models;
        return null;
    }

    /// <summary>A client-chosen string as an error message may quote it.</summary>
    private static string Shown(string value) => value.Length <= 64 ? value : value[..64] + "…";

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

using System.Text.Json;
using System.Xml;

namespace Qhaigc.Functions.Admin.Keys;

/// <summary>
/// The body of <c>POST /manage/keys/{id}/rotate</c>, <c>{"gracePeriod": "PT1H"}</c>, all optional (an empty body
/// too): how long the key's old secrets keep working (see docs/admin-api.md).
/// </summary>
public sealed record RotateRequest(TimeSpan GracePeriod)
{
    public static readonly TimeSpan DefaultGracePeriod = TimeSpan.FromHours(1);

    public static readonly TimeSpan MaxGracePeriod = TimeSpan.FromDays(90);

    public static RotateRequest Default { get; } = new(DefaultGracePeriod);

    /// <summary>Reads and checks <paramref name="body"/> (an object); null and the message of a 400 when it breaks a rule.</summary>
    public static RotateRequest? Read(JsonElement body, out string? error)
    {
        error = null;
        var gracePeriod = DefaultGracePeriod;
        foreach (var property in body.EnumerateObject())
        {
            if (property.Name != "gracePeriod")
            {
                error = $"{property.Name}: unknown field (rotate takes gracePeriod)";
                return null;
            }

            if (property.Value.ValueKind != JsonValueKind.String || !TryParseDuration(property.Value.GetString()!, out gracePeriod))
            {
                error = $"gracePeriod: Input should be an ISO 8601 duration from PT0S to P{MaxGracePeriod.Days}D, such as PT1H";
                return null;
            }
        }

        return new RotateRequest(gracePeriod);
    }

    /// <summary>ISO 8601 durations (<c>PT1H</c>, <c>P1D</c>, <c>PT0S</c>), none negative and none over <see cref="MaxGracePeriod"/>.</summary>
    private static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        if (!text.StartsWith('P'))
        {
            return false;
        }

        try
        {
            duration = XmlConvert.ToTimeSpan(text);
        }
        catch (FormatException)
        {
            return false;
        }
        catch (OverflowException)
        {
            return false;
        }

        return duration >= TimeSpan.Zero && duration <= MaxGracePeriod;
    }
}

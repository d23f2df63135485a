using System.Globalization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Admin;

/// <summary>The answers and query readers the admin resources share, so each is worded once.</summary>
public static class AdminResults
{
    public static ErrorResult Invalid(string message) => new(ApiError.InvalidRequest(message));

    public static ErrorResult KeyNotFound(string id) =>
        new(ApiError.From(ApiErrorKind.NotFound, $"No key with id '{(id.Length > 40 ? id[..40] : id)}'."));

    public static IResult Json<T>(T value, JsonTypeInfo<T> typeInfo, int status = StatusCodes.Status200OK) =>
        Results.Json(value, typeInfo, statusCode: status);

    /// <summary>
    /// Reads the query parameter <paramref name="name"/> as an ISO 8601 date or time (UTC unless it says otherwise)
    /// into <paramref name="value"/>, which keeps its default when the parameter is absent; false (and the 400 to
    /// answer) when it is present and not a time.
    /// </summary>
    public static bool TryReadTime(IQueryCollection query, string name, ref DateTimeOffset value, out ErrorResult? error)
    {
        error = null;
        if (!query.TryGetValue(name, out var text))
        {
            return true;
        }

        if (DateTimeOffset.TryParse(text.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value))
        {
            return true;
        }

        error = Invalid($"{name}: Input should be an ISO 8601 date or time");
        return false;
    }
}

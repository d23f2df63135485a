using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Admin.Keys;

/// <summary>Reads the JSON object a key call sends (create, update, rotate), up to <see cref="MaxBytes"/>.</summary>
public static class KeyRequestBody
{
    public const int MaxBytes = 64 * 1024;

    /// <summary>
    /// The body as a JSON object (the caller disposes it), or the error to answer: 413 over the size, 400 for bytes that
    /// are not UTF-8 JSON or not an object. With <paramref name="emptyAllowed"/> an empty body is neither: both come back null.
    /// </summary>
    public static async Task<(JsonDocument? Document, IResult? Error)> ReadAsync(HttpContext context, bool emptyAllowed = false)
    {
        byte[]? body;
        try
        {
            body = await RequestBody.ReadAsync(context.Request, MaxBytes, context.RequestAborted);
        }
        catch (OperationCanceledException exception) when (RequestBody.ClientLeft(exception, context.RequestAborted))
        {
            // Nobody is left to answer.
            return (null, Results.Empty);
        }
        catch (BadHttpRequestException exception)
        {
            return (null, exception.StatusCode == StatusCodes.Status408RequestTimeout
                ? new ErrorResult(new ApiError(408, ErrorTypes.Timeout, RequestBody.StalledMessage))
                : AdminResults.Invalid("The request body could not be read."));
        }

        if (body is null)
        {
            return (null, new ErrorResult(ApiError.From(ApiErrorKind.RequestTooLarge, $"Request exceeds {MaxBytes} bytes.")));
        }

        if (body.Length == 0 && emptyAllowed)
        {
            return (null, null);
        }

        // The JSON reader checks the structure, not the bytes inside strings: text that is not UTF-8 would fail later,
        // as a 500, where a field is read.
        if (!Utf8.IsValid(body))
        {
            return (null, AdminResults.Invalid("There was an error parsing the body: the body is not valid UTF-8"));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException exception)
        {
            return (null, AdminResults.Invalid("There was an error parsing the body: " + exception.Message.Split(" Path:")[0]));
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            return (null, AdminResults.Invalid("Input should be a valid dictionary"));
        }

        return (document, null);
    }
}

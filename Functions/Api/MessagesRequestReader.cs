using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Api;

/// <summary>
/// What <c>/v1/messages</c> and <c>/v1/messages/count_tokens</c> check between the key and the model, in Anthropic's
/// order (spec §2.4): the <c>anthropic-version</c> header, the body within the size limit, JSON, the schema; then the
/// headers the upstream gets with the request.
/// </summary>
public static class MessagesRequestReader
{
    public static async ValueTask<MessagesRead> ReadAsync(HttpRequest request, long maxBytes, bool requireMaxTokens, CancellationToken aborted)
    {
        var version = request.Headers[HeaderNames.AnthropicVersion].ToString();
        if (version.Length == 0)
        {
            return new MessagesRead(ApiError.InvalidRequest("anthropic-version: header is required"));
        }

        if (!AnthropicVersions.IsKnown(version))
        {
            return new MessagesRead(ApiError.InvalidRequest($"anthropic-version: \"{CallRecorders.Truncate(version, 64)}\" is not a valid version"));
        }

        byte[]? body;
        try
        {
            body = await RequestBody.ReadAsync(request, maxBytes, aborted);
        }
        catch (OperationCanceledException exception) when (RequestBody.ClientLeft(exception, aborted))
        {
            return new MessagesRead(null) { ClientLeft = true };
        }
        catch (BadHttpRequestException exception)
        {
            return new MessagesRead(exception.StatusCode == 413 ? TooLarge(maxBytes) : ApiError.InvalidRequest("The request body could not be read."));
        }

        if (body is null)
        {
            return new MessagesRead(TooLarge(maxBytes));
        }

        var messages = MessagesRequestValidator.Parse(body, requireMaxTokens, out var invalid);
        if (messages is null)
        {
            return new MessagesRead(invalid);
        }

        request.HttpContext.Response.RegisterForDispose(messages);
        messages.AnthropicVersion = version;
        messages.AnthropicBeta = HeaderPolicy.JoinBetas(request.Headers);
        messages.ExtraAnthropicHeaders = HeaderPolicy.ExtraAnthropicHeaders(request.Headers);
        return new MessagesRead(null) { Messages = messages };
    }

    /// <summary>Anthropic's 413 for a body over the limit (spec §2.4).</summary>
    public static ApiError TooLarge(long maxBytes) => ApiError.From(ApiErrorKind.RequestTooLarge,
        $"Request exceeds the maximum allowed number of bytes ({maxBytes}).");
}

/// <summary>The request, or why there is none: a refusal, or the client gone before its body arrived.</summary>
public readonly record struct MessagesRead(ApiError? Error)
{
    public MessagesRequest? Messages { get; init; }

    public bool ClientLeft { get; init; }
}

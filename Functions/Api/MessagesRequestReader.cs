using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>
/// What <c>/v1/messages</c> and <c>/v1/messages/count_tokens</c> check between the key and the model, in Anthropic's
/// order (docs/wire-contract.md): the <c>anthropic-version</c> header, the body within the size limit, JSON, the
/// schema; then the headers the upstream gets with the request.
/// </summary>
public sealed class MessagesRequestReader : IClaudeRequestReader
{
    private readonly bool _requireMaxTokens;

    private MessagesRequestReader(string endpoint, bool requireMaxTokens, bool recordsStream)
    {
        Endpoint = endpoint;
        _requireMaxTokens = requireMaxTokens;
        RecordsStream = recordsStream;
    }

    /// <summary><c>POST /v1/messages</c>.</summary>
    public static MessagesRequestReader Messages { get; } = new("messages", requireMaxTokens: true, recordsStream: true);

    /// <summary><c>POST /v1/messages/count_tokens</c>: <c>max_tokens</c> is not required, and nothing streams.</summary>
    public static MessagesRequestReader CountTokens { get; } = new("count_tokens", requireMaxTokens: false, recordsStream: false);

    public ErrorFormat Errors => ErrorFormat.Claude;

    public string Endpoint { get; }

    public bool RecordsStream { get; }

    public async ValueTask<ClaudeRequestRead> ReadAsync(
        HttpRequest request, BodyLimits limits, CallRecorder record, GatewayContext gateway, CancellationToken aborted)
    {
        var version = request.Headers[HeaderNames.AnthropicVersion].ToString();
        if (version.Length == 0)
        {
            return new ClaudeRequestRead(ApiError.InvalidRequest("anthropic-version: header is required"));
        }

        if (!AnthropicVersions.IsKnown(version))
        {
            return new ClaudeRequestRead(UnknownVersion(version));
        }

        var read = await ReadBodyAsync(request, limits, gateway, aborted);
        if (read.Body is not { } body)
        {
            return read.Otherwise;
        }

        var messages = MessagesRequestValidator.Parse(body, _requireMaxTokens, out var invalid);
        if (messages is null)
        {
            return new ClaudeRequestRead(invalid);
        }

        AttachHeaders(messages, request, version);
        return ClaudeRequestRead.Of(messages);
    }

    /// <summary>
    /// Reads the body within the limit: the bytes, or the refusal (<c>413</c> over the limit, <c>400</c> unreadable),
    /// or the client gone while it was arriving. Shared by every reader of a Claude request.
    /// </summary>
    internal static async ValueTask<BodyRead> ReadBodyAsync(HttpRequest request, BodyLimits limits, GatewayContext gateway, CancellationToken aborted)
    {
        byte[]? body;
        try
        {
            body = await RequestBody.ReadAsync(request, limits.MaxBytes, aborted, gateway.Waits, limits.StallTimeout);
        }
        catch (OperationCanceledException exception) when (RequestBody.ClientLeft(exception, aborted))
        {
            return new BodyRead(null, ClaudeRequestRead.Left);
        }
        catch (BadHttpRequestException exception)
        {
            return new BodyRead(null, new ClaudeRequestRead(exception.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => TooLarge(limits.MaxBytes),
                StatusCodes.Status408RequestTimeout => new ApiError(408, ErrorTypes.Timeout, RequestBody.StalledMessage),
                _ => ApiError.InvalidRequest("The request body could not be read."),
            }));
        }

        return body is null ? new BodyRead(null, new ClaudeRequestRead(TooLarge(limits.MaxBytes))) : new BodyRead(body, default);
    }

    /// <summary>The client's <c>anthropic-*</c> headers, kept on the request for upstreams that speak Claude's format.</summary>
    internal static void AttachHeaders(MessagesRequest messages, HttpRequest request, string version)
    {
        request.HttpContext.Response.RegisterForDispose(messages);
        messages.AnthropicVersion = version;
        messages.AnthropicBeta = HeaderPolicy.JoinBetas(request.Headers);
        messages.ExtraAnthropicHeaders = HeaderPolicy.ExtraAnthropicHeaders(request.Headers);
    }

    internal static ApiError UnknownVersion(string version) =>
        ApiError.InvalidRequest($"anthropic-version: \"{CallRecorders.Truncate(version, 64)}\" is not a valid version");

    /// <summary>Anthropic's 413 for a body over the limit (docs/wire-contract.md).</summary>
    public static ApiError TooLarge(long maxBytes) => ApiError.From(ApiErrorKind.RequestTooLarge,
        $"Request exceeds the maximum allowed number of bytes ({maxBytes}).");

    /// <summary>A body read: its bytes, or what to answer instead.</summary>
    internal readonly record struct BodyRead(byte[]? Body, ClaudeRequestRead Otherwise);
}

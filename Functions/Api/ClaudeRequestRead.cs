using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Api;

/// <summary>What an <see cref="IClaudeRequestReader"/> made of a request: the Claude request, a refusal, or the client gone.</summary>
public readonly record struct ClaudeRequestRead(ApiError? Error)
{
    public MessagesRequest? Messages { get; init; }

    public bool ClientLeft { get; init; }

    public static ClaudeRequestRead Left { get; } = new(null) { ClientLeft = true };

    public static ClaudeRequestRead Of(MessagesRequest messages) => new(null) { Messages = messages };
}

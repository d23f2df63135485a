using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Governance;

namespace Qhaigc.Functions.Api;

/// <summary>
/// <c>POST /v1/chat/completions</c>: the OpenAI request is translated into a Claude Messages request and goes through
/// the same prologue, upstreams and usage record as <c>/v1/messages</c>. The Claude answer is translated back into
/// OpenAI's format, or, with <c>"style": "claude"</c>, returned exactly as <c>/v1/messages</c> returns it. Errors use
/// OpenAI's shape until <c>style: claude</c> has been read, Claude's after it (docs/openai-compatibility.md).
/// </summary>
public sealed class ChatCompletionsHandler(CallPrologue prologue, UpstreamForwarder forwarder, TimeProvider time)
{
    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var reader = new ChatRequestReader();
        var admitted = await prologue.RunAsync(context, reader);
        if (admitted.Answer is { } answer)
        {
            return answer;
        }

        var messages = admitted.Messages;
        AnswerFormat format = reader.ClaudeStyle
            ? new ClaudeAnswerFormat(messages.Model)
            : new ChatAnswerFormat(messages.Model, messages.Stream, reader.IncludeUsage, time);
        return await forwarder.ForwardAsync(context, admitted, format, RateLimitHeaderFormat.OpenAi);
    }
}

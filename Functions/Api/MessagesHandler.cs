using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Governance;

namespace Qhaigc.Functions.Api;

/// <summary>
/// <c>POST /v1/messages</c>: the prologue's checks in Anthropic's order (size, key, version, JSON, schema, model
/// permission, routing), then limits, the upstream, the answer in Claude's format, the usage record
/// (docs/architecture.md, docs/wire-contract.md).
/// </summary>
public sealed class MessagesHandler(CallPrologue prologue, UpstreamForwarder forwarder)
{
    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var admitted = await prologue.RunAsync(context, MessagesRequestReader.Messages);
        if (admitted.Answer is { } answer)
        {
            return answer;
        }

        // The answer names the model the client asked for, whatever name an upstream knows it by.
        var model = admitted.Messages.Model;
        var modelToRestore = admitted.Routes.All(route => route.UpstreamModel == model) ? null : model;
        return await forwarder.ForwardAsync(context, admitted, new ClaudeAnswerFormat(modelToRestore), RateLimitHeaderFormat.Anthropic);
    }
}

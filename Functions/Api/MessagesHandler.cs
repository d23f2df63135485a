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
    public Task<IResult> HandleAsync(HttpContext context)
    {
        // The prologue usually completes at once (a cached key, a body already read): then nothing waits here.
        var run = prologue.RunAsync(context, MessagesRequestReader.Messages);
        return run.IsCompletedSuccessfully ? ForwardAsync(context, run.Result) : AfterPrologueAsync(context, run);
    }

    private async Task<IResult> AfterPrologueAsync(HttpContext context, ValueTask<Prologue> run) => await ForwardAsync(context, await run);

    private Task<IResult> ForwardAsync(HttpContext context, Prologue admitted)
    {
        if (admitted.Answer is { } answer)
        {
            return Task.FromResult(answer);
        }

        // The answer names the model the client asked for, whatever name an upstream knows it by.
        var model = admitted.Messages.Model;
        string? modelToRestore = null;
        foreach (var route in admitted.Routes)
        {
            if (route.UpstreamModel != model)
            {
                modelToRestore = model;
                break;
            }
        }

        return forwarder.ForwardAsync(context, admitted, new ClaudeAnswerFormat(modelToRestore), RateLimitHeaderFormat.Anthropic);
    }
}

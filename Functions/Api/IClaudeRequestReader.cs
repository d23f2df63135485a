using Microsoft.AspNetCore.Http;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Api;

/// <summary>
/// The step of <see cref="CallPrologue"/> that differs by endpoint: what is checked between the key and the model, in
/// the endpoint's order, and how the body becomes a validated Claude Messages request (docs/architecture.md).
/// </summary>
public interface IClaudeRequestReader
{
    /// <summary>The shape refusals are answered in; it may change while the request is read (a chat request's <c>style</c>).</summary>
    ErrorFormat Errors { get; }

    /// <summary>The endpoint the usage record names (the reader may rename it on the record as it reads).</summary>
    string Endpoint { get; }

    /// <summary>True when the record keeps the request's <c>stream</c> flag.</summary>
    bool RecordsStream { get; }

    ValueTask<ClaudeRequestRead> ReadAsync(HttpRequest request, BodyLimits limits, CallRecorder record, GatewayContext gateway, CancellationToken aborted);
}

using System.Text.Json;

namespace Qhaigc.Functions.Protocol;

/// <summary>
/// A validated <c>/v1/messages</c> request. Only the fields the gateway reads are modelled; the original bytes are
/// what an Anthropic upstream receives, so fields the gateway does not know pass through untouched (docs/wire-contract.md#6-request-body).
/// </summary>
public sealed class MessagesRequest : IDisposable
{
    public MessagesRequest(byte[] body, JsonDocument document, string model, int maxTokens, bool stream)
    {
        Body = body;
        Document = document;
        Model = model;
        MaxTokens = maxTokens;
        Stream = stream;
    }

    /// <summary>The request body exactly as the client sent it.</summary>
    public byte[] Body { get; }

    public JsonDocument Document { get; }

    public JsonElement Root => Document.RootElement;

    public string Model { get; }

    public int MaxTokens { get; }

    public bool Stream { get; }

    /// <summary>The client's <c>anthropic-version</c>.</summary>
    public string AnthropicVersion { get; set; } = AnthropicVersions.Default;

    /// <summary>The client's <c>anthropic-beta</c> values, repeats joined with commas (docs/wire-contract.md#32-anthropic-beta).</summary>
    public string? AnthropicBeta { get; set; }

    /// <summary>Other <c>anthropic-*</c> headers, forwarded to Anthropic-format upstreams (docs/wire-contract.md#33-other-client-headers).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ExtraAnthropicHeaders { get; set; } = [];

    /// <summary>
    /// True when the request was translated from OpenAI's format with a <c>temperature</c> above Claude's range (OpenAI
    /// takes 0–2, Claude 0–1): an upstream that speaks Claude's format sends 1 instead, one that speaks OpenAI's sends
    /// the value as it came (docs/openai-compatibility.md). Decided per attempt, so a fallback of the other kind gets
    /// what it understands.
    /// </summary>
    public bool TemperatureAboveClaudeRange { get; set; }

    /// <summary>
    /// True when the body names an uploaded file (<see cref="FileSources"/>), as seen by the validator: only such a request
    /// pays for the ownership check and is routed to the deployment that holds its files (docs/files.md#references).
    /// </summary>
    public bool ReferencesFiles { get; init; }

    public void Dispose() => Document.Dispose();
}

/// <summary>The <c>anthropic-version</c> values Anthropic accepts (docs/wire-contract.md#31-anthropic-version).</summary>
public static class AnthropicVersions
{
    public const string Default = "2023-06-01";

    public static bool IsKnown(string version) => version is "2023-06-01" or "2023-01-01" or "2026-10-21";
}

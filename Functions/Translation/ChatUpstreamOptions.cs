namespace Qhaigc.Functions.Translation;

/// <summary>How a Claude Messages request is put to an OpenAI-compatible upstream.</summary>
public sealed record ChatUpstreamOptions
{
    /// <summary>
    /// The name of the output limit: <c>max_completion_tokens</c> (OpenAI's current name, required by its reasoning
    /// models) or <c>max_tokens</c> (older servers).
    /// </summary>
    public string MaxTokensParameter { get; init; } = "max_completion_tokens";
}

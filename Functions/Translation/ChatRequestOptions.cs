namespace Qhaigc.Functions.Translation;

/// <summary>How an OpenAI Chat Completions request becomes a Claude Messages request.</summary>
public sealed record ChatRequestOptions
{
    /// <summary>Used when the client sends neither <c>max_completion_tokens</c> nor <c>max_tokens</c> (one-api's default).</summary>
    public int DefaultMaxTokens { get; init; } = 4096;

    /// <summary>
    /// Claude accepts <c>temperature</c> 0–1, OpenAI 0–2: clamp for Claude upstreams (docs/openai-compatibility.md#3-requests-openai-to-claude); keep the value when
    /// the answer comes from an OpenAI-compatible upstream, which understands the whole range.
    /// </summary>
    public bool ClampTemperature { get; init; } = true;
}

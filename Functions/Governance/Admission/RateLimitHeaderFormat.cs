namespace Qhaigc.Functions.Governance;

/// <summary>Which rate-limit headers an endpoint sends (spec §8.1): Anthropic's on <c>/v1/messages</c>, OpenAI's on <c>/v1/chat/completions</c>.</summary>
public enum RateLimitHeaderFormat
{
    Anthropic,
    OpenAi,
}

namespace Qhaigc.Functions.Governance;

/// <summary>Which rate-limit headers an endpoint sends (docs/limits-and-prices.md): Anthropic's on <c>/v1/messages</c>, OpenAI's on <c>/v1/chat/completions</c>.</summary>
public enum RateLimitHeaderFormat
{
    Anthropic,
    OpenAi,
}

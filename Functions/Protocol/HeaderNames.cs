namespace Qhaigc.Functions.Protocol;

/// <summary>Header names of the Anthropic and OpenAI wire formats, and the gateway's own.</summary>
public static class HeaderNames
{
    public const string ApiKey = "x-api-key";
    public const string Authorization = "Authorization";
    public const string AnthropicVersion = "anthropic-version";
    public const string AnthropicBeta = "anthropic-beta";
    public const string RequestId = "request-id";
    public const string XRequestId = "x-request-id";
    public const string ShouldRetry = "x-should-retry";
    public const string RetryAfter = "retry-after";
    public const string RetryAfterMs = "retry-after-ms";
    public const string Overhead = "x-qhaigc-overhead-ms";
    public const string StainlessRetryCount = "x-stainless-retry-count";
    public const string ClaudeCodeSessionId = "x-claude-code-session-id";
}

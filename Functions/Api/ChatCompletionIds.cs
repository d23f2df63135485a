using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Api;

/// <summary>OpenAI-style completion ids: <c>chatcmpl-</c> and 24 base62 characters.</summary>
public static class ChatCompletionIds
{
    public static string New() => Ids.New("chatcmpl-");
}

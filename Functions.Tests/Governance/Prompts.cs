using System.Text.Json;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>Request bodies whose input estimate is known exactly, so reservations can equal real costs.</summary>
public static class Prompts
{
    /// <summary>A user text whose request the gateway estimates at exactly <paramref name="tokens"/> input tokens.</summary>
    public static string TextEstimatedAt(int tokens)
    {
        for (var words = 1; words < 4 * tokens; words++)
        {
            var text = string.Join(' ', Enumerable.Repeat("a", words));
            using var body = JsonDocument.Parse(Body("m", text, 1, false));
            var estimate = TokenEstimator.Shared.EstimateRequest(body.RootElement);
            if (estimate == tokens)
            {
                return text;
            }

            if (estimate > tokens)
            {
                break;
            }
        }

        throw new InvalidOperationException($"No prompt is estimated at exactly {tokens} tokens.");
    }

    /// <summary>
    /// The input tokens a spend cap reserves for a request of measured text: its hard bound (bytes and framing,
    /// docs/limits-and-prices.md#what-a-hard-cap-guarantees). A fake upstream that reports this many input tokens makes
    /// a call's reservation equal its real cost.
    /// </summary>
    public static long ReservedInputOf(string body)
    {
        using var document = JsonDocument.Parse(body);
        return InputBoundReader.Read(document.RootElement).MeasuredTokens;
    }

    /// <summary>A Messages request body (the text must need no JSON escaping).</summary>
    public static string Body(string model, string text, int maxTokens, bool stream) =>
        $$"""{"model":"{{model}}","max_tokens":{{maxTokens}},"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"{{text}}"}]}""";
}

namespace Qhaigc.Functions.Translation;

/// <summary>
/// Decides whether an OpenAI <c>finish_reason: stop</c> was one of the requested stop sequences, so Claude clients get
/// <c>stop_sequence</c> with the matched string (docs/openai-compatibility.md#6-stop-reasons). OpenAI does not say which string matched; vLLM reports it
/// as <c>stop_reason</c>, and some servers leave the stop string at the end of the text. Only the tail of the text is
/// kept, never the whole answer.
/// </summary>
public sealed class StopSequenceMatcher(IReadOnlyList<string> stops)
{
    private readonly int _longest = stops.Count == 0 ? 0 : stops.Max(static s => s.Length);
    private string _tail = "";

    public void Append(string text)
    {
        if (_longest == 0 || text.Length == 0)
        {
            return;
        }

        var joined = _tail + text;
        _tail = joined.Length <= _longest ? joined : joined[^_longest..];
    }

    /// <summary>The matched stop sequence, or null when the text ended for another reason.</summary>
    public string? Match(string? reportedStop)
    {
        if (_longest == 0)
        {
            return null;
        }

        if (reportedStop is not null)
        {
            foreach (var stop in stops)
            {
                if (stop == reportedStop)
                {
                    return stop;
                }
            }
        }

        foreach (var stop in stops)
        {
            if (stop.Length > 0 && _tail.EndsWith(stop, StringComparison.Ordinal))
            {
                return stop;
            }
        }

        return null;
    }
}

namespace Qhaigc.Functions.Translation;

/// <summary>Claude <c>stop_reason</c> ↔ OpenAI <c>finish_reason</c> (docs/openai-compatibility.md#6-stop-reasons).</summary>
public static class StopReasons
{
    /// <summary>Claude → OpenAI. Unknown reasons become <c>stop</c>.</summary>
    public static string ToFinishReason(string? stopReason) => stopReason switch
    {
        "end_turn" or "stop_sequence" or "pause_turn" => "stop",
        "max_tokens" or "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    };

    /// <summary>True when <see cref="ToFinishReason"/> knows the value (unknown ones are worth a log line).</summary>
    public static bool IsKnownStopReason(string? stopReason) =>
        stopReason is "end_turn" or "stop_sequence" or "pause_turn" or "max_tokens" or "model_context_window_exceeded" or "tool_use" or "refusal";

    /// <summary>OpenAI → Claude. Unknown reasons become <c>end_turn</c>; <c>stop</c> is refined by the caller into <c>stop_sequence</c>.</summary>
    public static string ToStopReason(string? finishReason) => finishReason switch
    {
        "stop" => "end_turn",
        "length" => "max_tokens",
        "tool_calls" or "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ => "end_turn",
    };

    public static bool IsKnownFinishReason(string? finishReason) =>
        finishReason is "stop" or "length" or "tool_calls" or "function_call" or "content_filter";
}

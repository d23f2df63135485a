namespace Qhaigc.Functions.Translation;

/// <summary>
/// What translating an OpenAI-compatible upstream's answer back to Claude needs from the request: the client's model
/// name, the tool names to restore, the stop sequences asked for, and token estimators for an answer without usage.
/// </summary>
public sealed record ChatAnswerContext(
    string Model,
    ToolNames ToolNames,
    IReadOnlyList<string> StopSequences,
    Func<long> EstimateInputTokens,
    Func<string, int> CountTokens);

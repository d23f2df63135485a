namespace Qhaigc.Functions.Translation;

/// <summary>A Claude request translated for an OpenAI-compatible upstream, with what the answer's translation needs.</summary>
public sealed record ChatUpstreamRequest(byte[] Body, ToolNames ToolNames, IReadOnlyList<string> StopSequences);

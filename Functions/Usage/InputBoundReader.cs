using System.Runtime.InteropServices;
using System.Text.Json;

namespace Qhaigc.Functions.Usage;

/// <summary>
/// Reads a Claude Messages request for its <see cref="InputBound"/>: a hard upper bound on what the gateway can measure,
/// and which parts it cannot. No tokenizer runs here: a byte-level tokenizer never yields more tokens than the UTF-8
/// bytes it reads, and a JSON value's raw text is never shorter than the text it decodes to, so the raw bytes of a
/// measured part bound its tokens. The assumptions and constants are in docs/limits-and-prices.md#what-a-hard-cap-guarantees.
/// </summary>
public static class InputBoundReader
{
    /// <summary>Framing of the whole request (start and end of the prompt, the assistant's turn).</summary>
    public const int RequestOverheadTokens = 256;

    /// <summary>Framing of one message (role markers).</summary>
    public const int MessageOverheadTokens = 16;

    /// <summary>Framing of one content block or tool definition.</summary>
    public const int BlockOverheadTokens = 16;

    /// <summary>The system prompt Anthropic adds when tools are offered (346 tokens in its tool-use docs), with room to spare.</summary>
    public const int ToolSystemPromptTokens = 1_000;

    /// <summary>An Anthropic-defined client tool (bash, text editor, computer, memory): its documented system prompt (at most 735 + 499 tokens), with room to spare.</summary>
    public const int AnthropicClientToolTokens = 1_500;

    /// <summary>One image sent inline: Claude resizes every image to about 1.15 megapixels (about 1,600 tokens), with room to spare.</summary>
    public const int ImageTokens = 2_000;

    private static readonly string[] AnthropicClientTools = ["bash_", "text_editor_", "computer_", "memory_"];

    public static InputBound Read(JsonElement root)
    {
        var state = new State();
        if (root.ValueKind != JsonValueKind.Object)
        {
            return new InputBound(RequestOverheadTokens, false, false, null);
        }

        state.Tokens = RequestOverheadTokens;
        foreach (var property in root.EnumerateObject())
        {
            switch (property.Name)
            {
                case "model" or "max_tokens" or "stream" or "temperature" or "top_p" or "top_k" or "thinking" or "service_tier":
                    break;
                case "system":
                    state.Content(property.Value);
                    break;
                case "messages":
                    if (property.Value.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var message in property.Value.EnumerateArray())
                        {
                            state.Tokens += MessageOverheadTokens;
                            if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content))
                            {
                                state.Content(content);
                            }
                        }
                    }

                    break;
                case "tools":
                    state.Tools(property.Value);
                    break;
                case "mcp_servers":
                    if (property.Value.ValueKind == JsonValueKind.Array && property.Value.GetArrayLength() > 0)
                    {
                        // Their tool definitions and results come from servers the gateway never sees, in a loop.
                        state.Unmeasured = true;
                        state.ServerLoop = true;
                        state.Unbounded = true;
                    }

                    break;
                case "container":
                    // Skills and files loaded into a code-execution container are read by the model from there.
                    state.Unmeasured |= property.Value.ValueKind is not JsonValueKind.Null;
                    break;
                default:
                    // Anything else a later API version adds to the prompt (tool_choice, output formats…) at its raw bytes.
                    state.Tokens += Bytes(property.Value);
                    break;
            }
        }

        return new InputBound(state.Tokens, state.Unmeasured, state.ServerLoop, state.ServerLoop && !state.Unbounded ? state.MaxUses : null, state.FetchedAtUse);
    }

    /// <summary>UTF-8 bytes of a value's raw JSON text: never fewer than the bytes of the text it holds.</summary>
    private static long Bytes(JsonElement value) => JsonMarshal.GetRawUtf8Value(value).Length;

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private sealed class State
    {
        public long Tokens;
        public bool Unmeasured;
        public bool ServerLoop;
        public bool Unbounded;
        public long MaxUses;
        public bool FetchedAtUse;

        public void Content(JsonElement content)
        {
            if (content.ValueKind == JsonValueKind.Array)
            {
                foreach (var block in content.EnumerateArray())
                {
                    Block(block);
                }
            }
            else
            {
                Tokens += Bytes(content);
            }
        }

        public void Tools(JsonElement tools)
        {
            if (tools.ValueKind != JsonValueKind.Array || tools.GetArrayLength() == 0)
            {
                return;
            }

            Tokens += ToolSystemPromptTokens;
            foreach (var tool in tools.EnumerateArray())
            {
                var type = String(tool, "type");
                if (type is null or "custom")
                {
                    Tokens += BlockOverheadTokens + Bytes(tool);
                }
                else if (IsAnthropicClientTool(type))
                {
                    Tokens += AnthropicClientToolTokens + Bytes(tool);
                }
                else
                {
                    // A server tool (web search, web fetch, code execution…): the upstream runs it and samples again,
                    // with results the gateway never sees, as often as max_uses lets it.
                    Tokens += BlockOverheadTokens + Bytes(tool);
                    Unmeasured = true;
                    ServerLoop = true;
                    if (tool.TryGetProperty("max_uses", out var maxUses) && maxUses.ValueKind == JsonValueKind.Number &&
                        maxUses.TryGetInt64(out var uses) && uses >= 0)
                    {
                        // Saturating: a tenant's max_uses of 1e18 must not wrap the sum negative.
                        MaxUses = Math.Min(MaxUses + Math.Min(uses, int.MaxValue), int.MaxValue);
                    }
                    else
                    {
                        Unbounded = true;
                    }
                }
            }
        }

        private void Block(JsonElement block)
        {
            Tokens += BlockOverheadTokens;
            var type = String(block, "type");
            switch (type)
            {
                case "tool_result":
                    Tokens += BlockOverheadTokens;
                    if (block.TryGetProperty("content", out var result))
                    {
                        Content(result);
                    }

                    return;
                case "image":
                    if (SourceType(block) == "base64")
                    {
                        Tokens += ImageTokens;
                    }
                    else
                    {
                        Unmeasured = true;
                        FetchedAtUse |= SourceType(block) == "url";
                    }

                    return;
                case "document":
                    switch (SourceType(block))
                    {
                        case "text":
                            Tokens += Bytes(block);
                            return;
                        case "content":
                            Tokens += BlockOverheadTokens;
                            if (block.GetProperty("source").TryGetProperty("content", out var inner))
                            {
                                Content(inner);
                            }

                            return;
                        default:
                            // A PDF (its pages may sit in compressed streams), or a document by URL or file id.
                            Unmeasured = true;
                            FetchedAtUse |= SourceType(block) == "url";
                            return;
                    }

                case "container_upload":
                    Unmeasured = true;
                    return;
                case not null when type.EndsWith("_tool_result", StringComparison.Ordinal):
                    // A server tool's result (web search, web fetch, code execution…): encrypted or fetched content
                    // the upstream expands.
                    Unmeasured = true;
                    return;
                default:
                    if (SourceType(block) is "url" or "file" || (block.ValueKind == JsonValueKind.Object && block.TryGetProperty("file_id", out _)))
                    {
                        // A block type this version does not know, pointing at content elsewhere.
                        Unmeasured = true;
                        FetchedAtUse |= SourceType(block) == "url";
                        return;
                    }

                    // Text, tool use, thinking, search results (their source is a name, not a fetch): every token is in the bytes.
                    Tokens += Bytes(block);
                    return;
            }
        }

        private static string? SourceType(JsonElement block) =>
            block.ValueKind == JsonValueKind.Object && block.TryGetProperty("source", out var source) ? String(source, "type") : null;

        private static bool IsAnthropicClientTool(string type)
        {
            foreach (var prefix in AnthropicClientTools)
            {
                if (type.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }
    }
}

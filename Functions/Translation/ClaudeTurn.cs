using System.Text.Json;

namespace Qhaigc.Functions.Translation;

/// <summary>
/// One Claude turn being built from Chat Completions messages: consecutive messages of one role land in the same turn,
/// each content block kept as the write that puts it in the Claude body.
/// </summary>
internal sealed class ClaudeTurn(string role)
{
    public string Role { get; } = role;

    public List<Action<Utf8JsonWriter>> Blocks { get; } = [];

    /// <summary>How many tool results lead the turn.</summary>
    public int ResultCount { get; set; }

    /// <summary>The last turn when it has this role, else a new turn added after it.</summary>
    public static ClaudeTurn Of(List<ClaudeTurn> turns, string role)
    {
        if (turns.Count > 0 && turns[^1].Role == role)
        {
            return turns[^1];
        }

        var turn = new ClaudeTurn(role);
        turns.Add(turn);
        return turn;
    }

    /// <summary>Adds a text block; empty text adds nothing (Claude refuses empty text blocks).</summary>
    public void AddText(string text)
    {
        if (text.Length == 0)
        {
            return;
        }

        Blocks.Add(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "text"u8);
            writer.WriteString("text"u8, text);
            writer.WriteEndObject();
        });
    }
}

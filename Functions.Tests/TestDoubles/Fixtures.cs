using System.Reflection;

namespace Qhaigc.Functions.Tests.TestDoubles;

/// <summary>Recorded wire fixtures embedded in the test assembly (Fixtures/**).</summary>
public static class Fixtures
{
    public static byte[] Bytes(string relativePath)
    {
        var name = "Qhaigc.Functions.Tests.Fixtures." + relativePath.Replace('/', '.');
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"No embedded fixture '{name}'.");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    public static string Text(string relativePath) => System.Text.Encoding.UTF8.GetString(Bytes(relativePath));

    /// <summary>The events of an SSE fixture as (name, data) pairs, in order.</summary>
    public static IReadOnlyList<(string Event, string Data)> Events(string relativePath) => ParseEvents(Text(relativePath));

    public static IReadOnlyList<(string Event, string Data)> ParseEvents(string sse)
    {
        var events = new List<(string, string)>();
        foreach (var block in sse.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null;
            var data = new List<string>();
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data.Add(line["data: ".Length..]);
                }
            }

            events.Add((name ?? "message", string.Join('\n', data)));
        }

        return events;
    }
}

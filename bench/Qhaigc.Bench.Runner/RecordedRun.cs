using System.Text.Json;

namespace Qhaigc.Bench.Runner;

/// <summary>A run's tables rendered again from its JSON record.</summary>
public static class RecordedRun
{
    public static string Render(string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var environment = json.RootElement.GetProperty("environment").EnumerateArray().Select(static e => e.GetString() ?? "").ToList();
        var results = new Dictionary<string, Numbers>(StringComparer.Ordinal);
        foreach (var run in json.RootElement.GetProperty("results").EnumerateObject())
        {
            var numbers = new Numbers();
            foreach (var value in run.Value.EnumerateObject())
            {
                numbers[value.Name] = value.Value.GetDouble();
            }

            results[run.Name] = numbers;
        }

        var chat = results.ContainsKey("chat.saturate.gateway");
        var events = 200;
        return new Report(results, chat, events).Render(environment);
    }
}

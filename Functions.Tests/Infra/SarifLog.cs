using System.Text;
using System.Text.Json;

namespace Qhaigc.Functions.Tests.Infra;

/// <summary>
/// The diagnostics of <c>bicep lint --diagnostics-format Sarif</c>. With <c>--pattern</c> the CLI prints one SARIF
/// document per file, one after another, so the output is read as a sequence of JSON values.
/// </summary>
public sealed class SarifLog
{
    private SarifLog(int documents, IReadOnlyList<string> results)
    {
        Documents = documents;
        Results = results;
    }

    /// <summary>How many SARIF documents (linted files) the output held.</summary>
    public int Documents { get; }

    /// <summary>Every result as "file(line): level rule: message".</summary>
    public IReadOnlyList<string> Results { get; }

    public static SarifLog Parse(string output)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(output), new JsonReaderOptions { AllowMultipleValues = true });
        var documents = 0;
        var results = new List<string>();
        while (reader.Read())
        {
            using var document = JsonDocument.ParseValue(ref reader);
            documents++;
            foreach (var run in document.RootElement.GetProperty("runs").EnumerateArray())
            {
                foreach (var result in run.GetProperty("results").EnumerateArray())
                {
                    results.Add(Describe(result));
                }
            }
        }

        return new SarifLog(documents, results);
    }

    private static string Describe(JsonElement result)
    {
        var location = result.TryGetProperty("locations", out var locations) && locations.GetArrayLength() > 0
            ? locations[0].GetProperty("physicalLocation")
            : default;
        var file = location.ValueKind == JsonValueKind.Object
            ? Path.GetFileName(location.GetProperty("artifactLocation").GetProperty("uri").GetString())
            : "?";
        var line = location.ValueKind == JsonValueKind.Object && location.TryGetProperty("region", out var region)
            ? region.GetProperty("startLine").GetInt32()
            : 0;
        return $"{file}({line}): {result.GetProperty("level").GetString()} {result.GetProperty("ruleId").GetString()}: " +
            result.GetProperty("message").GetProperty("text").GetString();
    }
}

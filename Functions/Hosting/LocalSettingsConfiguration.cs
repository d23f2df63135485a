using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace Qhaigc.Functions.Hosting;

/// <summary>
/// Lets the standalone mode read the same <c>local.settings.json</c> that <c>func start</c> reads, so one file
/// configures both modes. Only its <c>Values</c> are read; <c>__</c> in a name means a configuration section.
/// </summary>
public static class LocalSettingsConfiguration
{
    public const string FileName = "local.settings.json";

    public static IConfigurationBuilder AddLocalSettingsJson(this IConfigurationBuilder builder, string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return builder;
        }

        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        using (var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }))
        {
            if (document.RootElement.TryGetProperty("Values", out var section) && section.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in section.EnumerateObject())
                {
                    values[property.Name.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal)] =
                        property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : property.Value.GetRawText();
                }
            }
        }

        // Environment variables and the command line still win: insert before them.
        var sources = builder.Sources;
        var source = new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = values };
        var index = sources.ToList().FindIndex(static s => s is Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationSource);
        if (index < 0)
        {
            sources.Add(source);
        }
        else
        {
            sources.Insert(index, source);
        }

        return builder;
    }
}

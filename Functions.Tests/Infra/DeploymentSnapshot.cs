using System.Text.Json;

namespace Qhaigc.Functions.Tests.Infra;

/// <summary>
/// The output of <c>bicep snapshot</c>: every resource that a deployment of <c>main.bicep</c> with one parameter file
/// would create, modules flattened, with each expression that is known before deployment already evaluated. Values
/// known only while deploying (an identity's client id, an account's endpoints) stay ARM expressions such as
/// <c>[reference('&lt;resource id&gt;', '&lt;api&gt;').clientId]</c>, which name the resource they come from.
/// </summary>
public sealed class DeploymentSnapshot
{
    private readonly JsonElement _root;

    public DeploymentSnapshot(string name, JsonElement root)
    {
        Name = name;
        _root = root;
        Resources = [.. root.GetProperty("predictedResources").EnumerateArray()];
        Diagnostics = [.. root.GetProperty("diagnostics").EnumerateArray().Select(static d => d.ToString())];
        AppSettings = Resource("Microsoft.Web/sites").GetProperty("properties").GetProperty("siteConfig").GetProperty("appSettings")
            .EnumerateArray()
            .ToDictionary(static s => s.GetProperty("name").GetString()!, static s => s.GetProperty("value").GetString()!, StringComparer.Ordinal);
    }

    /// <summary>Which parameter file this is a snapshot of.</summary>
    public string Name { get; }

    public IReadOnlyList<JsonElement> Resources { get; }

    public IReadOnlyList<string> Diagnostics { get; }

    /// <summary>The function app's application settings, name to value.</summary>
    public IReadOnlyDictionary<string, string> AppSettings { get; }

    public JsonElement Outputs => _root.GetProperty("outputs");

    public IEnumerable<JsonElement> OfType(string type) =>
        Resources.Where(r => string.Equals(r.GetProperty("type").GetString(), type, StringComparison.OrdinalIgnoreCase));

    public JsonElement Resource(string type)
    {
        var matches = OfType(type).ToList();
        return matches.Count == 1
            ? matches[0]
            : throw new Xunit.Sdk.XunitException($"{Name}: expected one {type}, found {matches.Count}.");
    }

    public static string Id(JsonElement resource) => resource.GetProperty("id").GetString()!;

    public static string ResourceName(JsonElement resource) => resource.GetProperty("name").GetString()!;

    public static JsonElement Properties(JsonElement resource) => resource.GetProperty("properties");

    /// <summary>The ARM function call that reads a property of a resource known only at deployment.</summary>
    public static string Reference(JsonElement resource, string property) =>
        $"reference('{Id(resource)}', '{resource.GetProperty("apiVersion").GetString()}').{property}";

    /// <summary>True when a value is exactly <see cref="Reference"/> as a whole ARM expression.</summary>
    public static bool IsReferenceTo(string value, JsonElement resource, string property) =>
        value == $"[{Reference(resource, property)}]";

    public override string ToString() => Name;
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace Qhaigc.Functions.Tests.Translation;

/// <summary>Source-generated JSON for the translation tests (reflection JSON is off).</summary>
[JsonSerializable(typeof(IReadOnlyDictionary<string, JsonElement>))]
public sealed partial class JsonContext : JsonSerializerContext;

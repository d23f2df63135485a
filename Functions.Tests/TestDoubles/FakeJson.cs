using System.Text.Json.Serialization;

namespace Qhaigc.Functions.Tests.TestDoubles;

/// <summary>Source-generated JSON for the test doubles (reflection JSON is off).</summary>
[JsonSerializable(typeof(string))]
public sealed partial class FakeJson : JsonSerializerContext;

using System.Text.Json.Nodes;

namespace Qhaigc.Functions.Tests.Translation;

/// <summary>Compares JSON documents by value (property order and whitespace do not matter).</summary>
public static class JsonAssert
{
    public static void Equal(string expected, string actual)
    {
        var expectedNode = JsonNode.Parse(expected);
        var actualNode = JsonNode.Parse(actual);
        if (!JsonNode.DeepEquals(expectedNode, actualNode))
        {
            Assert.Fail($"JSON differs.\nExpected: {expectedNode?.ToJsonString()}\nActual:   {actualNode?.ToJsonString()}");
        }
    }

    /// <summary>Checks that <paramref name="actual"/> has every property of <paramref name="expected"/> with equal values.</summary>
    public static void Contains(string expected, string actual)
    {
        var expectedObject = JsonNode.Parse(expected)!.AsObject();
        var actualObject = JsonNode.Parse(actual)!.AsObject();
        foreach (var (name, value) in expectedObject)
        {
            Assert.True(actualObject.ContainsKey(name), $"Missing property '{name}' in {actualObject.ToJsonString()}");
            if (!JsonNode.DeepEquals(value, actualObject[name]))
            {
                Assert.Fail($"Property '{name}' differs.\nExpected: {value?.ToJsonString()}\nActual:   {actualObject[name]?.ToJsonString()}");
            }
        }
    }
}

using System.Text.Json;

namespace Qhaigc.Functions.Protocol;

/// <summary>Questions about the property names of a parsed body, answered on unescaped names.</summary>
public static class JsonNames
{
    /// <summary>
    /// True when a property called <paramref name="name"/> appears anywhere in <paramref name="body"/>, however it is
    /// spelled: a byte search finds the plain spelling at once, and only a body with escapes (<c>\u</c>) is walked, so
    /// <c>"cache\u005fcontrol"</c> cannot hide a name the gateway must see.
    /// </summary>
    public static bool Mentions(ReadOnlySpan<byte> body, JsonElement root, ReadOnlySpan<byte> quotedName, string name) =>
        body.IndexOf(quotedName) >= 0 || (body.IndexOf("\\u"u8) >= 0 && Contains(root, name));

    private static bool Contains(JsonElement element, string name)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.NameEquals(name) || Contains(property.Value, name))
                    {
                        return true;
                    }
                }

                return false;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (Contains(item, name))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }
}

using System.Globalization;
using System.Text;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>Renders exported telemetry as text, for the secret scan and for failure messages.</summary>
public static class Captured
{
    public static string? Text(object? value) => value switch
    {
        null => null,
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        System.Collections.IEnumerable items => string.Join(",", items.Cast<object?>().Select(Text)),
        _ => value.ToString(),
    };

    public static string Render(CapturedSpan span)
    {
        var text = new StringBuilder().Append(span.Name).Append(' ').Append(span.Kind).Append(' ').Append(span.TraceId).Append(Render(span.Attributes));
        foreach (var e in span.Events)
        {
            text.Append(" event ").Append(e.Name).Append(Render(e.Attributes));
        }

        return text.ToString();
    }

    public static string Render(CapturedMetricPoint point) => point.Name + Render(point.Attributes) + " = " + Text(point.Value);

    public static string Render(IReadOnlyDictionary<string, object?> attributes) =>
        " {" + string.Join(", ", attributes.Select(static a => a.Key + "=" + Text(a.Value))) + "}";
}

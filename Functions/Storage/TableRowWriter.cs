using System.Globalization;
using System.Text.Json;

namespace Qhaigc.Functions.Storage;

/// <summary>
/// Writes one table row's properties as the Table service's JSON (OData v3): values JSON cannot type by itself carry an
/// <c>@odata.type</c> annotation, as the Azure SDK writes them, so a row reads back with the same types whoever wrote
/// it. A null value is left out, as the SDK leaves it out of a replaced row.
/// </summary>
public readonly struct TableRowWriter(Utf8JsonWriter json)
{
    public void WriteString(string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    public void WriteBoolean(string name, bool value) => json.WriteBoolean(name, value);

    public void WriteInt32(string name, int? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
    }

    /// <summary>Edm.Int64 travels as a string: JSON numbers lose precision above 2^53 in many readers.</summary>
    public void WriteInt64(string name, long? value)
    {
        if (value is { } number)
        {
            Annotate(name, "Edm.Int64");
            Span<char> digits = stackalloc char[20];
            number.TryFormat(digits, out var length, provider: CultureInfo.InvariantCulture);
            json.WriteString(name, digits[..length]);
        }
    }

    public void WriteDouble(string name, double? value)
    {
        if (value is not { } number)
        {
            return;
        }

        // Annotated even when whole, or the service would store 5.0 as an Int32.
        Annotate(name, "Edm.Double");
        if (double.IsFinite(number))
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteString(name, double.IsNaN(number) ? "NaN" : number > 0 ? "Infinity" : "-Infinity");
        }
    }

    public void WriteDateTime(string name, DateTimeOffset? value)
    {
        if (value is { } time)
        {
            Annotate(name, "Edm.DateTime");
            json.WriteString(name, time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
        }
    }

    private void Annotate(string name, string type)
    {
        Span<char> annotated = stackalloc char[name.Length + "@odata.type".Length];
        name.AsSpan().CopyTo(annotated);
        "@odata.type".AsSpan().CopyTo(annotated[name.Length..]);
        json.WriteString(annotated, type);
    }
}

/// <summary>A row that writes itself for <see cref="TableBatchClient"/>.</summary>
public interface ITableRow
{
    string PartitionKey { get; }

    string RowKey { get; }

    /// <summary>Every property but the keys, through <paramref name="row"/>.</summary>
    void WriteProperties(TableRowWriter row);
}

using System.Globalization;
using System.Text;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// A statement as CSV (RFC 4180, UTF-8, <c>\r\n</c>): one row per line, the JSON lines' fields as columns. Text cells
/// that a spreadsheet could run as a formula (model names come from clients) are prefixed with <c>'</c>: those that start
/// with <c>= + - @</c>, their full-width forms <c>＝ ＋ － ＠</c> (which some spreadsheets fold to ASCII), or a control or
/// blank character a spreadsheet may skip before the formula (NUL, tab, CR, LF, space)
/// (https://owasp.org/www-community/attacks/CSV_Injection).
/// </summary>
public static class StatementCsv
{
    public const string Header =
        "key_id,day,model,currency,calls,input_tokens,output_tokens,cache_write_5m_tokens,cache_write_1h_tokens,cache_read_tokens,cost,unpriced_calls,estimated_calls,web_search_requests,web_fetch_requests";

    public static string Write(Statement statement)
    {
        var csv = new StringBuilder(Header).Append("\r\n");
        foreach (var line in statement.Lines)
        {
            csv.Append(Cell(statement.KeyId)).Append(',')
                .Append(line.Day).Append(',')
                .Append(Cell(line.Model)).Append(',')
                .Append(line.Currency ?? "").Append(',')
                .Append(CultureInfo.InvariantCulture, $"{line.Calls},{line.InputTokens},{line.OutputTokens},{line.CacheWrite5mTokens},")
                .Append(CultureInfo.InvariantCulture, $"{line.CacheWrite1hTokens},{line.CacheReadTokens},")
                .Append(line.Cost.ToString("0.######", CultureInfo.InvariantCulture)).Append(',')
                .Append(CultureInfo.InvariantCulture, $"{line.UnpricedCalls},{line.EstimatedCalls},{line.WebSearchRequests},{line.WebFetchRequests}")
                .Append("\r\n");
        }

        return csv.ToString();
    }

    private static string Cell(string value)
    {
        if (value.Length > 0 && (value[0] is '=' or '+' or '-' or '@' or '＝' or '＋' or '－' or '＠' or ' ' || char.IsControl(value[0])))
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}

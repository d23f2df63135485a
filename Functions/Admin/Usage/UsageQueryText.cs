using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Admin.Usage;

/// <summary>
/// The filters and order of a <c>GET /manage/usage</c> query as one line of text a <see cref="UsageCursor"/> carries, so
/// a cursor is only ever used for the query it was made for (the model is the client's text: base64url, so no separator
/// can hide in it).
/// </summary>
public static class UsageQueryText
{
    public static string Of(UsageFilter filter, bool newestFirst) => filter.IsEmpty && !newestFirst
        ? ""
        : string.Join('.',
            filter.Model is null ? "" : "m" + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(filter.Model)),
            filter.State?.ToWire() ?? "",
            filter.Status?.ToString(CultureInfo.InvariantCulture) ?? "",
            newestFirst ? "desc" : "asc");

    /// <summary>The filters and order <see cref="Of"/> wrote (the text comes from a signed cursor, so it is one it wrote).</summary>
    public static (UsageFilter Filter, bool NewestFirst) Read(string text)
    {
        if (text.Length == 0)
        {
            return (UsageFilter.None, false);
        }

        var parts = text.Split('.');
        var model = parts[0].Length > 1 ? Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[0].AsSpan(1))) : null;
        UsageState? state = parts[1].Length > 0 ? UsageStates.FromWire(parts[1]) : null;
        int? status = parts[2].Length > 0 ? int.Parse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture) : null;
        return (new UsageFilter(model, state, status), parts[3] == "desc");
    }
}

using System.Globalization;
using System.Text;

namespace Qhaigc.Bench.Runner;

/// <summary>
/// Streaming latency with curl, one request after another on one kept-alive connection: time to first byte (for
/// an event stream, the headers and the first event arrive together), total time, and, with <c>--trace-time</c>, when
/// each event of a paced stream arrived.
/// </summary>
public static class Curl
{
    public static async Task<Numbers> SequentialAsync(Target target, string path, string bodyFile, int count)
    {
        var arguments = Common(target, bodyFile);
        arguments.AddRange(["-w", "%{stderr}%{time_starttransfer} %{time_total} %{http_code} %header{x-qhaigc-overhead-ms}\\n"]);
        var url = target.Url(path).AbsoluteUri;
        for (var i = 0; i < count; i++)
        {
            arguments.AddRange(["-o", "/dev/null", url]);
        }

        var output = await Tool.RunAsync("curl", arguments, TimeSpan.FromMinutes(2));
        var ttfb = new List<double>();
        var total = new List<double>();
        var overhead = new List<double>();
        var errors = 0;
        foreach (var line in output.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 3 || parts[2] != "200")
            {
                errors++;
                continue;
            }

            ttfb.Add(double.Parse(parts[0], CultureInfo.InvariantCulture) * 1000);
            total.Add(double.Parse(parts[1], CultureInfo.InvariantCulture) * 1000);
            if (parts.Length > 3 && double.TryParse(parts[3], CultureInfo.InvariantCulture, out var ms))
            {
                overhead.Add(ms);
            }
        }

        if (ttfb.Count == 0)
        {
            throw new InvalidOperationException($"curl got no successful answer: {output.StandardError}");
        }

        // The first request opens the connection; the rest reuse it, as a client's do.
        var numbers = new Numbers
        {
            ["requests"] = ttfb.Count,
            ["errors"] = errors,
            ["ttfbP50Ms"] = Stats.Percentile(ttfb, 50),
            ["ttfbP90Ms"] = Stats.Percentile(ttfb, 90),
            ["ttfbP99Ms"] = Stats.Percentile(ttfb, 99),
            ["totalP50Ms"] = Stats.Percentile(total, 50),
            ["totalP90Ms"] = Stats.Percentile(total, 90),
            ["totalP99Ms"] = Stats.Percentile(total, 99),
        };
        if (overhead.Count > 0)
        {
            numbers["overheadP50Ms"] = Stats.Percentile(overhead, 50);
            numbers["overheadP99Ms"] = Stats.Percentile(overhead, 99);
        }

        return numbers;
    }

    /// <summary>
    /// One streamed answer traced by curl: for each event (counted by its <c>data:</c> line), milliseconds from the
    /// request's first byte sent to the read that delivered it, and the most events any one read delivered.
    /// </summary>
    public static async Task<(List<double> Arrivals, int MostEventsPerRead)> TraceAsync(Target target, string path, string bodyFile)
    {
        var arguments = Common(target, bodyFile);
        arguments.AddRange(["-N", "--trace-ascii", "-", "--trace-time", "-o", "/dev/null", target.Url(path).AbsoluteUri]);
        var output = await Tool.RunAsync("curl", arguments, TimeSpan.FromMinutes(1));

        var arrivals = new List<double>();
        var mostPerRead = 0;
        double? sent = null;
        double current = 0;
        var block = new StringBuilder();
        var inData = false;
        foreach (var line in output.StandardOutput.Split('\n'))
        {
            if (line.Length > 16 && line[2] == ':' && line[5] == ':' && line[8] == '.')
            {
                Flush();
                var time = TimeOfDay(line);
                if (line.Contains("=> Send", StringComparison.Ordinal))
                {
                    sent ??= time;
                }

                inData = line.Contains("<= Recv data", StringComparison.Ordinal);
                current = time;
            }
            else if (inData && line.Length > 6 && line[4] == ':')
            {
                // "0004: bytes..." — curl's dump lines, 64 bytes each, line breaks shown as dots.
                block.Append(line.AsSpan(6).TrimEnd('\r'));
            }
        }

        Flush();
        return (arrivals, mostPerRead);

        void Flush()
        {
            if (block.Length == 0)
            {
                return;
            }

            var text = block.ToString();
            var events = 0;
            for (var index = text.IndexOf("data: ", StringComparison.Ordinal); index >= 0; index = text.IndexOf("data: ", index + 6, StringComparison.Ordinal))
            {
                events++;
            }

            for (var i = 0; i < events; i++)
            {
                arrivals.Add(current - (sent ?? current));
            }

            mostPerRead = Math.Max(mostPerRead, events);
            block.Clear();
        }
    }

    private static double TimeOfDay(string line) =>
        TimeSpan.ParseExact(line[..15], @"hh\:mm\:ss\.ffffff", CultureInfo.InvariantCulture).TotalMilliseconds;

    private static List<string> Common(Target target, string bodyFile)
    {
        var arguments = new List<string> { "-s", "-H", "Content-Type: application/json", "--data-binary", "@" + bodyFile };
        foreach (var header in target.Headers)
        {
            arguments.AddRange(["-H", header]);
        }

        return arguments;
    }
}

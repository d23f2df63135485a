using System.Diagnostics;
using System.Text.Json;

namespace Qhaigc.Bench.Runner;

/// <summary>
/// What a gateway run cost: CPU seconds of each process (gateway, Azurite, fake upstream) from /proc, and the
/// gateway's allocated bytes, GC counts and outgoing requests from its <c>/_bench/runtime</c> route, per request.
/// The usage records of a run are written after their answers; the run is only over when the queue is empty, so
/// their cost is counted too. One meter per gateway process (the gateway, and with <c>--baseline</c> the baseline's).
/// </summary>
public sealed class CostMeter(Servers servers, ChildProcess gateway, Uri gatewayUrl, HttpClient http, Func<Task> warmKey)
{
    private readonly Uri _runtime = new(gatewayUrl, "_bench/runtime");

    public async Task<Numbers> MeasureAsync(Func<Task<Numbers>> run)
    {
        // The targets are for a cached key: the previous run's usage drain may have outlasted the key's cache time.
        await warmKey();
        var before = await SnapshotAsync();
        var clock = Stopwatch.StartNew();
        var result = await run();
        var seconds = clock.Elapsed.TotalSeconds;
        var atEnd = await RuntimeAsync();

        var drain = Stopwatch.StartNew();
        var after = atEnd;
        while (after.Get("usageOutstanding") > 0 && drain.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(50);
            after = await RuntimeAsync();
        }

        var end = await SnapshotAsync();
        var requests = result.Get("requests");
        var storageReads = Delta("outbound:GET " + servers.AzuritePort);
        var storageAll = end.Runtime.Keys
            .Where(key => key.StartsWith("outbound:", StringComparison.Ordinal) && key.EndsWith(" " + servers.AzuritePort, StringComparison.Ordinal))
            .Sum(Delta);

        result["gatewayCpuMsPerRequest"] = (end.Gateway.CpuSeconds - before.Gateway.CpuSeconds) * 1000 / requests;
        result["gatewayCpuCores"] = (end.Gateway.CpuSeconds - before.Gateway.CpuSeconds) / (seconds + drain.Elapsed.TotalSeconds);
        result["gatewayAllocBytesPerRequest"] = Delta("allocatedBytes") / requests;
        result["gatewayGen0"] = Delta("gen0");
        result["gatewayGen1"] = Delta("gen1");
        result["gatewayGen2"] = Delta("gen2");
        result["gatewayGcPauseMs"] = Delta("gcPauseMs");
        result["azuriteCpuMsPerRequest"] = (end.Azurite.CpuSeconds - before.Azurite.CpuSeconds) * 1000 / requests;
        result["upstreamCpuMsPerRequest"] = (end.Upstream.CpuSeconds - before.Upstream.CpuSeconds) * 1000 / requests;
        result["storageReads"] = storageReads;
        result["storageWrites"] = storageAll - storageReads;
        result["usageBacklogAtEnd"] = atEnd.Get("usageOutstanding");
        result["usageDrainSeconds"] = drain.Elapsed.TotalSeconds;
        result["gatewayRssBytes"] = end.Gateway.RssBytes;
        result["gatewayPeakRssBytes"] = end.Gateway.PeakRssBytes;
        return result;

        double Delta(string name)
        {
            var from = before.Runtime.Get(name);
            var to = end.Runtime.Get(name);
            return (double.IsNaN(to) ? 0 : to) - (double.IsNaN(from) ? 0 : from);
        }
    }

    /// <summary>The fake upstream's CPU per request (direct runs).</summary>
    public async Task<Numbers> MeasureDirectAsync(Func<Task<Numbers>> run)
    {
        var before = servers.Upstream.Sample();
        var result = await run();
        var after = servers.Upstream.Sample();
        result["upstreamCpuMsPerRequest"] = (after.CpuSeconds - before.CpuSeconds) * 1000 / result.Get("requests");
        return result;
    }

    /// <summary>The bare proxy's and the fake upstream's CPU per request (reference runs).</summary>
    public async Task<Numbers> MeasureProxyAsync(Func<Task<Numbers>> run)
    {
        var proxy = servers.Proxy.Sample();
        var result = await MeasureDirectAsync(run);
        var after = servers.Proxy.Sample();
        result["proxyCpuMsPerRequest"] = (after.CpuSeconds - proxy.CpuSeconds) * 1000 / result.Get("requests");
        result["proxyPeakRssBytes"] = after.PeakRssBytes;
        return result;
    }

    public async Task<Numbers> RuntimeAsync()
    {
        using var json = JsonDocument.Parse(await http.GetStringAsync(_runtime));
        var numbers = new Numbers();
        foreach (var property in json.RootElement.EnumerateObject())
        {
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.Number:
                    numbers[property.Name] = property.Value.GetDouble();
                    break;
                case JsonValueKind.Object:
                    foreach (var inner in property.Value.EnumerateObject())
                    {
                        numbers[property.Name + ":" + inner.Name] = inner.Value.GetDouble();
                    }

                    break;
            }
        }

        return numbers;
    }

    private async Task<Snapshot> SnapshotAsync() =>
        new(gateway.Sample(), servers.Azurite.Sample(), servers.Upstream.Sample(), await RuntimeAsync());

    private sealed record Snapshot(ProcSample Gateway, ProcSample Azurite, ProcSample Upstream, Numbers Runtime);
}

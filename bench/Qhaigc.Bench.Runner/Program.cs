using System.Globalization;
using System.Text.Json;
using Qhaigc.Bench.Runner;

// The gateway overhead benchmark (bench/README.md): start Azurite, the fake upstream and the gateway, run every
// scenario direct and through the gateway, print the tables and write them to bench/results/. With --baseline REF, the
// gateway at that commit runs beside it and the regression scenarios run against both in turn.
// `--render FILE.json` prints the tables of a recorded run again instead (after a change to the report).
if (args is ["coldstart" or "stream-cpu" or "streams", ..])
{
    // bench/scale.sh: the serverless-scale measurements (Scale/ScaleCommand.cs).
    return await Qhaigc.Bench.Runner.Scale.ScaleCommand.RunAsync(args);
}

if (args is ["--render", var recorded])
{
    Console.WriteLine(RecordedRun.Render(recorded));
    return 0;
}

var options = BenchOptions.Parse(args);
foreach (var tool in new[] { "wrk", "curl", "node" })
{
    if (Tool.Find(tool) is null)
    {
        Console.Error.WriteLine($"{tool} is not on PATH. bench/run.sh installs wrk with apt-get where it can; see bench/README.md.");
        return 2;
    }
}

// The baseline is built before anything is measured (and before waiting for a quiet machine: the build is load too).
using var baseline = options.Baseline is { } reference ? await BaselineWorktree.CreateAsync(options.RepositoryRoot, reference, Log) : null;
await WaitForQuietMachineAsync(options);
var loadAtStart = MachineInfo.LoadAverage();
var work = Directory.CreateTempSubdirectory("qhaigc-bench-").FullName;
Directory.CreateDirectory(options.OutputDirectory);
Log($"logs and request bodies in {work}");

Dictionary<string, Numbers> results;
bool chatAvailable;
using (var servers = await Servers.StartAsync(options, work, options.StreamEvents))
using (var http = new HttpClient())
{
    Task AnswerOnceAsync(Uri gatewayUrl) => Ports.WaitAnswersAsync(http, new Uri(gatewayUrl, BenchRun.MessagesPath),
        ["x-api-key: " + Servers.GatewayKey, "anthropic-version: 2023-06-01"],
        new { model = "bench", max_tokens = 16, messages = new[] { new { role = "user", content = "ready?" } } }, TimeSpan.FromSeconds(60));
    var cost = new CostMeter(servers, servers.Gateway, servers.GatewayUrl, http, () => AnswerOnceAsync(servers.GatewayUrl));
    await AnswerOnceAsync(servers.GatewayUrl);
    if ((await cost.RuntimeAsync()).Get("gatewayOptimized") != 1)
    {
        throw new InvalidOperationException("The gateway under test is a Debug build; build with `dotnet build bench/Qhaigc.Bench.slnx -c Release`.");
    }

    var idle = servers.Gateway.Sample();
    Log($"gateway ready, {idle.RssBytes / (1024 * 1024)} MiB resident");

    CostMeter? baselineCost = null;
    if (baseline is not null)
    {
        await servers.StartBaselineAsync(baseline.GatewayDll);
        var baselineUrl = servers.BaselineUrl!;
        baselineCost = new CostMeter(servers, servers.Baseline!, baselineUrl, http, () => AnswerOnceAsync(baselineUrl));
        await AnswerOnceAsync(baselineUrl);
        // Built here in Release; a baseline whose host does not report the flag (NaN) is taken as built.
        if ((await baselineCost.RuntimeAsync()).Get("gatewayOptimized") == 0)
        {
            throw new InvalidOperationException("The baseline gateway is a Debug build.");
        }

        Log($"baseline gateway ({baseline.Commit[..7]}) ready, {servers.Baseline!.Sample().RssBytes / (1024 * 1024)} MiB resident");
    }

    var run = new BenchRun(options, servers, new Wrk(Path.Combine(options.RepositoryRoot, "bench", "wrk")), cost, baselineCost, work, Log);
    await run.RunAsync();
    results = run.Results;
    chatAvailable = run.ChatAvailable;
    results["gateway.idle"] = new Numbers { ["rssBytes"] = idle.RssBytes };
}

var environment = MachineInfo.Describe(options, loadAtStart, MachineInfo.LoadAverage());
if (baseline is not null)
{
    environment.Insert(1, baseline.Description);
}

var report = new Report(results, chatAvailable, options.StreamEvents).Render(environment);
Console.WriteLine();
Console.WriteLine(report);

var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "latest.md"), report);
await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, $"{stamp}.md"), report);
await using (var json = File.Create(Path.Combine(options.OutputDirectory, $"{stamp}.json")))
{
    await using var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Indented = true });
    writer.WriteStartObject();
    writer.WriteStartArray("environment");
    foreach (var line in environment)
    {
        writer.WriteStringValue(line);
    }

    writer.WriteEndArray();
    writer.WriteStartObject("results");
    foreach (var (key, numbers) in results.OrderBy(static r => r.Key, StringComparer.Ordinal))
    {
        writer.WriteStartObject(key);
        foreach (var (name, value) in numbers)
        {
            if (double.IsFinite(value))
            {
                writer.WriteNumber(name, value);
            }
        }

        writer.WriteEndObject();
    }

    writer.WriteEndObject();
    writer.WriteEndObject();
}

Log($"written to {Path.Combine(options.OutputDirectory, "latest.md")} and {stamp}.json");
Directory.Delete(work, recursive: true);
return 0;

static void Log(string message) => Console.Error.WriteLine($"[bench {DateTime.Now:HH:mm:ss}] {message}");

static async Task WaitForQuietMachineAsync(BenchOptions options)
{
    if (options.MaxLoad is not { } max)
    {
        return;
    }

    var deadline = DateTime.UtcNow + options.LoadWait;
    while (MachineInfo.LoadAverage()[0] > max && DateTime.UtcNow < deadline)
    {
        Log($"load average {MachineInfo.LoadAverage()[0]:0.00} is above {max}; waiting");
        await Task.Delay(TimeSpan.FromSeconds(15));
    }
}

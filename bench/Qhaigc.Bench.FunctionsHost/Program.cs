using System.Text;
using System.Text.Json;
using Qhaigc.Bench.ColdStart;
using Qhaigc.Bench.FunctionsHost;
using Qhaigc.Bench.Runner;
using Qhaigc.Functions.Tests.HostEmulation;

// The cold start of the Functions worker under the emulated host (bench/README.md#serverless-scale). Arguments: --app
// FOLDER (the Functions app: its build or publish output) and --setting NAME=VALUE for each app setting (the
// development key among them). The host stays up; each line read from standard input (a label) starts the worker under
// a new emulated host, times it to its first answered POST /v1/messages through the host's front door, stops it, and
// writes one line of JSON to standard output. Standard input closed: it exits.
var app = (string?)null;
var settings = new Dictionary<string, string?>(StringComparer.Ordinal);
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--app":
            app = args[i + 1];
            break;
        case "--setting":
            var pair = args[i + 1];
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            settings[pair[..equals]] = pair[(equals + 1)..];
            break;
        default:
            throw new ArgumentException($"Unknown option {args[i]}.");
    }
}

var functionsApp = FunctionsAppOutput.Read(app ?? throw new ArgumentException("--app FOLDER is required."));
var key = settings.GetValueOrDefault("Gateway__DevKey") ?? throw new ArgumentException("--setting Gateway__DevKey=... is required.");
while (Console.ReadLine() is { } label)
{
    Console.Out.WriteLine(await LaunchAsync(label));
    Console.Out.Flush();
}

async Task<string> LaunchAsync(string label)
{
    var timer = new WorkerStartTimer();
    using var buffer = new MemoryStream();
    using (var json = new Utf8JsonWriter(buffer))
    {
        json.WriteStartObject();
        json.WriteString("label", label);
        try
        {
            // Telemetry off, as in the standalone cold start: no exporter is configured for either.
            var host = await FunctionsGatewayHost.StartAsync(settings, functionsApp, telemetry: false, observer: timer);
            await using (host)
            {
                await ColdStartProbe.WaitFirstAnswerAsync(new Uri(host.BaseAddress, "v1/messages"), key, "Functions worker", timer.Clock, WorkerStartTimer.Deadline);
                var answeredMs = timer.Clock.Elapsed.TotalMilliseconds;
                var sample = ProcSample.Read(host.WorkerProcessId);
                // The same call once more, for the record: what the first call cost beyond a warm one.
                var again = System.Diagnostics.Stopwatch.StartNew();
                await ColdStartProbe.WaitFirstAnswerAsync(new Uri(host.BaseAddress, "v1/messages"), key, "Functions worker", again, WorkerStartTimer.Deadline);
                json.WriteNumber("secondAnswerMs", again.Elapsed.TotalMilliseconds);
                json.WriteNumber("connectedMs", timer.ConnectedMs);
                json.WriteNumber("initializedMs", timer.InitializedMs);
                json.WriteNumber("listeningMs", timer.ListeningMs);
                json.WriteNumber("firstAnswerMs", answeredMs);
                json.WriteNumber("cpuConnectedMs", timer.CpuConnectedMs);
                json.WriteNumber("cpuInitializedMs", timer.CpuInitializedMs);
                json.WriteNumber("cpuListeningMs", timer.CpuListeningMs);
                json.WriteNumber("cpuMs", sample.CpuSeconds * 1000);
                json.WriteNumber("rssBytes", sample.RssBytes);
            }

            // Written once the worker has stopped (the host's graceful stop), so the next launch has the cores to itself.
            // The worker's output and the host's own lines go to the log (bench/results keeps only the numbers).
            Console.Error.WriteLine($"launch {label}: what the emulated host saw{Environment.NewLine}{host.CapturedLogs}");
        }
        catch (Exception exception)
        {
            Console.Error.WriteLine($"launch {label} failed: {exception}");
            json.WriteString("error", exception.Message.Split('\n')[0]);
        }

        json.WriteEndObject();
    }

    return Encoding.UTF8.GetString(buffer.ToArray());
}

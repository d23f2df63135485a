using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Qhaigc.Bench.Affinity;
using Qhaigc.Functions.Hosting;

// Prompt-cache affinity (bench/README.md, "Affinity and the prompt cache"). A pool of cache-aware fake upstreams (each
// its own prompt cache, as each Anthropic account is) behind the gateway in standalone mode; many conversations of
// several turns each, a few at a time, every call with its conversation's X-Claude-Code-Session-Id. Run once with
// Gateway:Routing:Affinity = session and once with none (weighted random), and report the share of input tokens read
// from the cache in each.
var conversations = Option("--conversations", 200);
var turns = Option("--turns", 8);
var members = Option("--members", 4);
var parallel = Option("--parallel", 8);
const string DevKey = "sk-qh-bench-key-not-a-secret-0000000000000000000001";

// Azurite's well-known development account (public and documented, not a secret).
const string AzuriteAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
var root = RepositoryRoot();
var azuritePort = FreePort();
using var azurite = Process.Start(new ProcessStartInfo("node",
[
    Path.Combine(root, "node_modules", "azurite", "dist", "src", "table", "main.js"), "--tableHost", "127.0.0.1",
    "--tablePort", azuritePort.ToString(CultureInfo.InvariantCulture), "--inMemoryPersistence", "--silent",
    "--skipApiVersionCheck", "--disableProductStyleUrl",
]) { RedirectStandardOutput = true, RedirectStandardError = true }) ?? throw new InvalidOperationException("node did not start");
await WaitListeningAsync(azuritePort);

var upstreams = new List<CachingUpstream>();
for (var i = 0; i < members; i++)
{
    upstreams.Add(await CachingUpstream.StartAsync(FreePort()));
}

var lines = new List<string>
{
    $"{conversations} conversations of {turns} turns, {parallel} at a time, over a pool of {members} equal members.",
    "",
    "| affinity | cache-read share of input tokens | calls per member |",
    "|---|---|---|",
};
try
{
    foreach (var affinity in new[] { "session", "none" })
    {
        upstreams.ForEach(static u => u.Reset());
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Storage:ConnectionString"] =
                $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteAccountKey};" +
                $"TableEndpoint=http://127.0.0.1:{azuritePort}/devstoreaccount1;",
            ["Gateway:DevKey"] = DevKey,
            ["Gateway:Routing:Affinity"] = affinity,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        for (var i = 0; i < upstreams.Count; i++)
        {
            settings[$"Gateway:Upstreams:m{i}:Kind"] = "anthropic";
            settings[$"Gateway:Upstreams:m{i}:BaseUrl"] = upstreams[i].BaseUrl.ToString();
            settings[$"Gateway:Upstreams:m{i}:ApiKey"] = "bench-upstream-key-" + i;
        }

        var port = FreePort();
        await using var gateway = StandaloneHost.Build(["--urls", $"http://127.0.0.1:{port}"],
            builder => builder.Configuration.AddInMemoryCollection(settings));
        await gateway.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(60) };
        var totals = new long[2];
        await Parallel.ForAsync(0, conversations, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (conversation, token) =>
        {
            var (input, read) = await ConverseAsync(http, conversation, turns, token);
            Interlocked.Add(ref totals[0], input + read);
            Interlocked.Add(ref totals[1], read);
        });
        await gateway.StopAsync();
        var share = totals[0] == 0 ? 0 : totals[1] / (double)totals[0];
        lines.Add($"| {affinity} | {share.ToString("P1", CultureInfo.InvariantCulture)} | {string.Join(" / ", upstreams.Select(static u => u.Calls))} |");
    }
}
finally
{
    foreach (var upstream in upstreams)
    {
        await upstream.DisposeAsync();
    }

    azurite.Kill(entireProcessTree: true);
}

lines.Add("");
lines.Add("A turn's prefix (the system prompt and the turns before it) is a cache read only on a member that served an earlier turn.");
Console.WriteLine(string.Join('\n', lines));
return 0;

// One conversation: a long system prompt of its own, then turns that each add the answer and a new question.
static async Task<(long Input, long Read)> ConverseAsync(HttpClient http, int conversation, int turns, CancellationToken token)
{
    var system = $"Conversation {conversation}. " + string.Concat(Enumerable.Repeat("You are a careful assistant for a long task. ", 100));
    var messages = new List<object>();
    long input = 0, read = 0;
    for (var turn = 0; turn < turns; turn++)
    {
        messages.Add(new { role = "user", content = $"Question {turn} of conversation {conversation}: " + new string('q', 400) });
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { model = "claude-bench", max_tokens = 64, system, messages }), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-api-key", DevKey);
        request.Headers.Add("anthropic-version", "2023-06-01");
        request.Headers.Add("x-claude-code-session-id", $"session-{conversation}");
        using var response = await http.SendAsync(request, token);
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(token));
        var usage = body.RootElement.GetProperty("usage");
        input += usage.GetProperty("input_tokens").GetInt64();
        read += usage.GetProperty("cache_read_input_tokens").GetInt64();
        messages.Add(new { role = "assistant", content = "Noted; go on." });
    }

    return (input, read);
}

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static async Task WaitListeningAsync(int port)
{
    var deadline = DateTime.UtcNow.AddSeconds(30);
    while (true)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return;
        }
        catch (SocketException) when (DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
    }
}

static string RepositoryRoot()
{
    for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "Qhaigc.Functions.sln")))
        {
            return directory.FullName;
        }
    }

    throw new InvalidOperationException("Run from within the repository (Qhaigc.Functions.sln not found above the build output).");
}

using System.Globalization;
using Qhaigc.Bench.FakeUpstream;

// A fake Anthropic (and OpenAI chat-completions) upstream for the benchmark: canned answers on Kestrel, loopback only.
// Settings: --urls http://127.0.0.1:PORT, --events N (per stream, default 200), --gap-ms M (between events),
// --delay-ms D (before each answer), --count-delay-ms C (before each count_tokens answer, default 0). A request's model
// name can override the first three (see BenchModel).
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
// Thousands of streams open connections at once (bench/scale.sh streams): the fake must accept them all, never be
// the bottleneck, so its listen backlog is the kernel's maximum rather than Kestrel's 512.
builder.WebHost.UseSockets(static sockets => sockets.Backlog = 65535);
builder.WebHost.ConfigureKestrel(static kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Limits.MinResponseDataRate = null;
});

var config = builder.Configuration;
var defaults = new BenchModel(
    Events: Math.Clamp(config.GetValue("events", 200), BenchModel.MinEvents, BenchModel.MaxEvents),
    GapMs: config.GetValue("gap-ms", 0),
    DelayMs: config.GetValue("delay-ms", 0));
var api = new FakeApi(defaults, Math.Max(0, config.GetValue("count-delay-ms", 0)));

var app = builder.Build();
app.MapPost("/v1/messages", api.MessagesAsync);
app.MapPost("/v1/messages/count_tokens", api.CountTokensAsync);
app.MapPost("/v1/chat/completions", api.ChatCompletionsAsync);
app.MapGet("/health", static () => "ok");
app.MapGet("/_bench/requests", () => api.Requests.ToString(CultureInfo.InvariantCulture));
app.MapGet("/_bench/count-requests", () => api.CountRequests.ToString(CultureInfo.InvariantCulture));
await app.RunAsync();

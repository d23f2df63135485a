using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Qhaigc.Functions.Tests.Fuzz;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Usage;
using Xunit.Abstractions;

namespace Qhaigc.Functions.Tests.Faults;

/// <summary>
/// Hostile input (see docs/faults.md): thousands of generated requests (<see cref="RequestCorpus"/>) against a running gateway,
/// in parallel, as raw bytes on real sockets. Every one gets a 2xx or a 4xx, never a 5xx; the gateway neither crashes
/// nor logs an unhandled exception, still answers afterwards, and what it allocates stays proportional to what it is
/// sent (a request that costs far more than its size is the blow-up a hostile client looks for).
/// Rerun with another corpus: <c>QHAIGC_FUZZ_SEED=42 QHAIGC_FUZZ_COUNT=20000 dotnet test --filter HostileInputFuzzTests</c>.
/// </summary>
[Collection(FuzzCollectionDefinition.Name)]
public sealed class HostileInputFuzzTests(ITestOutputHelper output)
{
    private const int DefaultSeed = 20261125;
    /// <summary>Requests per pass; the corpus is sent twice.</summary>
    private const int DefaultCount = 1500;

    /// <summary>
    /// Bytes the process may allocate in a pass per byte sent, and per request on top. A body that is parsed and answered
    /// costs about 22 bytes a byte (the local upstream echoes the prompt, which is then translated and relayed), a refused
    /// one about 1; a request costs some 60 KB whatever its size (the test's own client included). A pass of the default
    /// corpus (95 MB in 1,500 requests) allocates 1.2–1.5 GB against a bound of 2.6 GB: a reader that re-copies what it
    /// has, or a parser that is quadratic in a string's length, goes far past it. The live heap is no measure: right after
    /// a pass it is mostly arrays that ArrayPool keeps for a minute (0.5–1 GB here, more on a machine with more cores).
    /// </summary>
    private const long AllocationPerInputByte = 24;

    private const long AllocationPerRequest = 256 * 1024;

    /// <summary>Longest wait for an answer (a 2 MB prompt through the local upstream takes a moment on a busy machine).</summary>
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// For a request whose framing promises more than it sends, waiting this long means the gateway waits for the rest,
    /// as HTTP says it must; the client then gives up.
    /// </summary>
    private static readonly TimeSpan IncompleteRequestTimeout = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task FuzzCorpus_GetsOnly2xxOr4xx_AndTheGatewayStaysUpAndBounded()
    {
        // Arrange: the local upstream (valid calls answer 200), a key, and the admin key.
        KnownSecrets.Register(RequestCorpus.PromptCanary);
        var seed = Setting("QHAIGC_FUZZ_SEED", DefaultSeed);
        var count = Setting("QHAIGC_FUZZ_COUNT", DefaultCount);
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone, withAnthropicUpstream: false);
        var target = new FuzzTarget($"127.0.0.1:{scenario.Host.BaseAddress.Port}", scenario.Secret, GatewayTestEnvironment.AdminKey);
        var results = new ConcurrentBag<(int Index, string Family, string Preview, int Status)>();
        var clock = Stopwatch.StartNew();

        // Act: the corpus twice (the second pass on a warm gateway), measuring what the process allocates in each.
        var corpus = RequestCorpus.Generate(seed, count, target).ToList();
        var inputBytes = corpus.Sum(static c => (long)c.Request.Length);
        var first = await PassAsync(corpus, scenario.Host.BaseAddress.Port, results);
        var second = await PassAsync(corpus, scenario.Host.BaseAddress.Port, results);
        clock.Stop();
        await ((StandaloneGatewayHost)scenario.Host).Services.GetRequiredService<UsageWriter>().WaitForIdleAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        // Assert: no 5xx, and every request answered (except one that left its body unfinished, which HTTP waits for).
        var failures = results
            .Where(static r => r.Status >= 500 || (r.Status == NoAnswer && r.Family != "bad-framing") || r.Status == ConnectionClosed)
            .OrderBy(static r => r.Index)
            .Select(r => $"#{r.Index} {r.Family} -> {Describe(r.Status)}: {r.Preview}")
            .ToList();
        var summary = string.Join(", ", results.GroupBy(static r => r.Status).OrderBy(static g => g.Key).Select(static g => $"{Describe(g.Key)}: {g.Count()}"));
        var errors = scenario.Host.CapturedLogs.Split('\n').Where(static l => l.StartsWith("Error ", StringComparison.Ordinal) || l.StartsWith("Critical ", StringComparison.Ordinal));
        Assert.True(failures.Count == 0,
            $"seed {seed}: {failures.Count} of {count} failed ({summary}):\n{string.Join('\n', failures.Take(20))}\ngateway errors:\n{string.Join('\n', errors.Distinct().Take(5))}");
        Assert.Equal(2 * count, results.Count);
        Assert.Contains(results, static r => r.Status is >= 200 and < 300);

        // ... a body with a duplicate property (however its name is escaped) or a model name over 256 characters is
        // never served: a strict parser would refuse it, so the gateway does (docs/wire-contract.md),
        var served = results
            .Where(static r => r.Family is "duplicate-key" or "oversized-model" && r.Status is >= 200 and < 300)
            .Select(static r => $"#{r.Index} {r.Family} -> {r.Status}: {r.Preview}")
            .ToList();
        Assert.True(served.Count == 0, $"seed {seed}: served although it must be refused:\n{string.Join('\n', served.Take(10))}");

        // ... the gateway logged no unhandled exception and still answers,
        var logs = scenario.Host.CapturedLogs;
        Assert.DoesNotContain("unhandled exception", logs, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Critical ", logs, StringComparison.Ordinal);
        using var http = scenario.Http();
        using var after = await http.SendAsync(RawClient.Messages(scenario.Secret, RawClient.Body("claude-sonnet-4-5")));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);

        // ... and neither pass allocated more than its input accounts for.
        var bound = AllocationPerInputByte * inputBytes + AllocationPerRequest * count;
        output.WriteLine($"seed {seed}: {2 * count} requests in {clock.Elapsed}; {summary}");
        output.WriteLine($"allocated {first / 1_048_576} MB in pass 1, {second / 1_048_576} MB in pass 2, for {inputBytes / 1_048_576} MB sent a pass (bound {bound / 1_048_576} MB)");
        Assert.True(first <= bound && second <= bound,
            $"allocated {first / 1_048_576} MB in the first pass, {second / 1_048_576} MB in the second, over {bound / 1_048_576} MB for {inputBytes / 1_048_576} MB in {count} requests ({summary})");
    }

    [Fact]
    public void RequestCorpus_IsDeterministic_ForASeed()
    {
        // Arrange
        var target = new FuzzTarget("127.0.0.1:1", "sk-qh-key", "admin");

        // Act
        var first = RequestCorpus.Generate(7, 60, target).Select(static c => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(c.Request))).ToList();
        var again = RequestCorpus.Generate(7, 60, target).Select(static c => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(c.Request))).ToList();
        var other = RequestCorpus.Generate(8, 60, target).Select(static c => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(c.Request))).ToList();

        // Assert
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    /// <summary>Sends the corpus once; returns what the process allocated meanwhile.</summary>
    private static async Task<long> PassAsync(
        IReadOnlyList<FuzzCase> corpus, int port, ConcurrentBag<(int Index, string Family, string Preview, int Status)> results)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        await RunAsync(corpus, port, results);
        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }

    private static Task RunAsync(IEnumerable<FuzzCase> corpus, int port, ConcurrentBag<(int Index, string Family, string Preview, int Status)> results) =>
        Parallel.ForEachAsync(corpus, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (fuzzCase, _) =>
        {
            var status = await SendAsync(port, fuzzCase.Request, fuzzCase.Family == "bad-framing" ? IncompleteRequestTimeout : AnswerTimeout);
            results.Add((fuzzCase.Index, fuzzCase.Family, fuzzCase.Preview(), status));
        });

    private const int NoAnswer = -1;
    private const int ConnectionClosed = -2;

    /// <summary>Sends raw bytes on a fresh connection; the answer's status, or why there was none.</summary>
    private static async Task<int> SendAsync(int port, byte[] request, TimeSpan answerTimeout)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        using var timeout = new CancellationTokenSource(answerTimeout);
        try
        {
            await stream.WriteAsync(request, timeout.Token);
        }
        catch (IOException)
        {
            // The gateway answered and closed before taking the whole request (a 413 or 431, say): read that answer.
        }
        catch (OperationCanceledException)
        {
            // It stopped reading (the answer is already there), or waits for the rest of an incomplete request.
        }

        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            long? length = null;
            using var readTimeout = new CancellationTokenSource(answerTimeout);
            while ((length is null || received.Length < length) && (read = await stream.ReadAsync(buffer, readTimeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
                length ??= AnswerLength(received);
            }
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException)
        {
            if (received.Length == 0)
            {
                return exception is OperationCanceledException ? NoAnswer : ConnectionClosed;
            }
        }

        var head = Encoding.Latin1.GetString(received.GetBuffer(), 0, (int)Math.Min(received.Length, 64));
        return head.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && int.TryParse(head.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var status)
            ? status
            : ConnectionClosed;
    }

    /// <summary>
    /// The whole answer's length once its head is here: head and <c>Content-Length</c>; long.MaxValue without one (read
    /// until the gateway closes). The gateway may keep the connection open a while after an early answer (a 413 before
    /// the body), draining the body the client announced, so an answer with a length is complete when that much is here.
    /// Only the head is decoded, and only until it is found: the answer is not (an echoed prompt can be megabytes).
    /// </summary>
    private static long? AnswerLength(MemoryStream received)
    {
        var end = received.GetBuffer().AsSpan(0, (int)received.Length).IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return null;
        }

        foreach (var line in Encoding.Latin1.GetString(received.GetBuffer(), 0, end).Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase) &&
                long.TryParse(line.AsSpan("Content-Length:".Length).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            {
                return end + 4 + length;
            }
        }

        return long.MaxValue;
    }

    private static string Describe(int status) => status switch
    {
        NoAnswer => "no answer",
        ConnectionClosed => "closed without an answer",
        _ => status.ToString(CultureInfo.InvariantCulture),
    };

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;
}

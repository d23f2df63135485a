using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using BenchmarkDotNet.Attributes;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Benchmarks;

/// <summary>
/// One table transaction of 100 usage records, as the usage writer sends it: through the Azure SDK
/// (<see cref="TableClient.SubmitTransactionAsync"/>) and through the gateway's <see cref="TableBatchClient"/>. Both go
/// through the same in-process transport, which reads the whole request body and answers as the Table service does
/// (one 204 per row), so what is measured is building the request and reading the answer, per transaction.
/// </summary>
[MemoryDiagnoser]
public class UsageTransactionBenchmarks
{
    private const int Rows = 100;
    private const string Account = "devstoreaccount1";
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private const string Endpoint = "http://127.0.0.1:10002/devstoreaccount1";

    private List<UsageEntity> _rows = null!;
    private TableClient _sdk = null!;
    private TableBatchClient _gateway = null!;

    [GlobalSetup]
    public void Setup()
    {
        var started = new DateTimeOffset(2026, 12, 5, 1, 0, 0, TimeSpan.Zero);
        _rows = Enumerable.Range(0, Rows).Select(i => UsageEntity.From(new UsageRecord
        {
            RequestId = $"req_bench{i:D16}",
            KeyId = "key_00000000000bench",
            Endpoint = "messages",
            StartedAt = started.AddMilliseconds(i),
            UpstreamRequestId = $"req_upstream{i:D12}",
            Model = "claude-sonnet-4-5",
            Upstream = "anthropic",
            UpstreamModel = "claude-sonnet-4-5-20250929",
            Stream = true,
            Status = 200,
            State = UsageState.Complete,
            InputTokens = 25,
            OutputTokens = 200,
            RawUsage = "{\"input_tokens\":25,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":200}",
            DurationMs = 12.5,
            TimeToFirstByteMs = 0.4,
        })).ToList();

        var transport = new HttpClientTransport(new HttpClient(new TableServiceAnswer(Rows)));
        var options = new TableClientOptions { Transport = transport };
        options.Retry.MaxRetries = 0;
        _sdk = new TableClient(new Uri(Endpoint), "usage", new TableSharedKeyCredential(Account, AccountKey), options);
        _gateway = TableBatchClient.ForConnectionString(
            $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={AccountKey};TableEndpoint={Endpoint};", "usage", options)!;
    }

    [Benchmark(Baseline = true)]
    public async Task AzureSdk() =>
        await _sdk.SubmitTransactionAsync(_rows.ConvertAll(static row => new TableTransactionAction(TableTransactionActionType.UpsertReplace, row)));

    [Benchmark]
    public Task Gateway() => _gateway.UpsertAsync(_rows, CancellationToken.None);

    /// <summary>Reads the request to its end and answers a transaction of <paramref name="rows"/> rows as applied.</summary>
    private sealed class TableServiceAnswer(int rows) : HttpMessageHandler
    {
        private readonly byte[] _answer = Answer(rows);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content is { } content)
            {
                await content.CopyToAsync(Stream.Null, cancellationToken);
            }

            var response = new HttpResponseMessage(HttpStatusCode.Accepted) { Content = new ByteArrayContent(_answer), RequestMessage = request };
            response.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/mixed; boundary=batchresponse_bench");
            return response;
        }

        private static byte[] Answer(int rows)
        {
            var text = new StringBuilder();
            text.Append("--batchresponse_bench\r\nContent-Type: multipart/mixed; boundary=changesetresponse_bench\r\n\r\n");
            for (var i = 0; i < rows; i++)
            {
                text.Append("--changesetresponse_bench\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n");
                text.Append("HTTP/1.1 204 No Content\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-cache\r\nDataServiceVersion: 1.0;\r\n");
                text.Append("ETag: W/\"datetime'2026-12-05T01%3A00%3A00.0000000Z'\"\r\n\r\n\r\n");
            }

            text.Append("--changesetresponse_bench--\r\n--batchresponse_bench--\r\n");
            return Encoding.ASCII.GetBytes(text.ToString());
        }
    }
}

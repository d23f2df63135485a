using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;

namespace Qhaigc.Functions.Storage;

/// <summary>
/// Upserts up to 100 rows of one partition into one table as a single entity group transaction (<c>POST $batch</c>),
/// with the request body written straight from the rows and the answer checked row by row without parsing it into
/// objects. Sent through an Azure.Core pipeline (the SDK's retries, timeouts and, with Entra ID, its token policy).
/// </summary>
/// <remarks>
/// Why not <see cref="TableClient.SubmitTransactionAsync"/>: for each row it builds a property dictionary by
/// reflection, a sub-request object, a JSON copy and, on the way back, a parsed sub-response; measured in the gateway
/// that is about 36 KB of allocation and most of the CPU a call's usage record costs (docs/performance.md, bench/RESULTS.md). The
/// wire format is the documented one (Performing entity group transactions, Table service REST API); tests write the
/// same rows both ways against Azurite and compare what the table holds, property by property and type by type.
/// </remarks>
public sealed class TableBatchClient
{
    /// <summary>The Table service version the gateway's SDK speaks, and the one batches are sent with.</summary>
    private const string ServiceVersion = "2019-02-02";
    private const int MaxRows = 100;
    private static readonly byte[] StatusLine = "HTTP/1.1 "u8.ToArray();

    private readonly HttpPipeline _pipeline;
    private readonly Uri _batchUri;
    private readonly string _tableUrl;

    private TableBatchClient(HttpPipeline pipeline, Uri serviceUri, string table)
    {
        _pipeline = pipeline;
        var service = serviceUri.AbsoluteUri.TrimEnd('/');
        _batchUri = new Uri(service + "/$batch");
        _tableUrl = service + "/" + table;
    }

    /// <summary>
    /// A client for a table reached with a connection string that holds an account key (Azurite's development account
    /// included); null for one this client does not sign (a shared access signature), which the SDK then writes.
    /// </summary>
    public static TableBatchClient? ForConnectionString(string connectionString, string table, TableClientOptions options)
    {
        var settings = ConnectionSettings(connectionString);
        if (settings.ContainsKey("SharedAccessSignature"))
        {
            return null;
        }

        string? accountKey;
        if (settings.TryGetValue("UseDevelopmentStorage", out var development) && development.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            accountKey = settings.GetValueOrDefault("AccountKey") ?? DevelopmentAccountKey;
        }
        else if (!settings.TryGetValue("AccountKey", out accountKey))
        {
            return null;
        }

        // The SDK reads the endpoint (TableEndpoint, or protocol, account and suffix) as it does for its own clients.
        var service = new TableServiceClient(connectionString);
        byte[] key;
        try
        {
            key = Convert.FromBase64String(accountKey);
        }
        catch (FormatException)
        {
            return null;
        }

        var pipeline = HttpPipelineBuilder.Build(options, new SharedKeyLitePolicy(service.AccountName, key));
        return new TableBatchClient(pipeline, service.Uri, table);
    }

    /// <summary>A client for a table reached with Entra ID (managed identity in Azure).</summary>
    public static TableBatchClient ForToken(Uri serviceUri, TokenCredential credential, string table, TableClientOptions options)
    {
        var pipeline = HttpPipelineBuilder.Build(options, new BearerTokenAuthenticationPolicy(credential, "https://storage.azure.com/.default"));
        return new TableBatchClient(pipeline, serviceUri, table);
    }

    /// <summary>
    /// Inserts or replaces every row, all or none. Throws <see cref="RequestFailedException"/> when the service refuses
    /// the transaction (with its status: 400 for a row it will not take, 404 for a missing table, 5xx when it is down).
    /// </summary>
    public async Task UpsertAsync<T>(IReadOnlyList<T> rows, CancellationToken cancellationToken) where T : ITableRow
    {
        if (rows.Count is 0 or > MaxRows)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows.Count, $"A transaction holds 1 to {MaxRows} rows.");
        }

        using var body = new PooledBuffer();
        var batch = "batch_" + Guid.NewGuid().ToString("D");
        WriteBody(body, batch, rows.Count, i => (rows[i], TableWriteKind.Upsert, default));
        await SendAsync(body, batch, rows.Count, etags: null, cancellationToken);
    }

    /// <summary>
    /// Writes every row as its <see cref="TableWrite.Kind"/> says, all or none, and answers each row's new entity tag
    /// (null where the answer carried none). A conditional row that does not hold fails the whole transaction with
    /// <c>409</c> (an insert of a row that exists) or <c>412</c> (a replace of a row that changed).
    /// </summary>
    public async Task<ETag?[]> WriteAsync(IReadOnlyList<TableWrite> writes, CancellationToken cancellationToken)
    {
        if (writes.Count is 0 or > MaxRows)
        {
            throw new ArgumentOutOfRangeException(nameof(writes), writes.Count, $"A transaction holds 1 to {MaxRows} rows.");
        }

        using var body = new PooledBuffer();
        var batch = "batch_" + Guid.NewGuid().ToString("D");
        WriteBody(body, batch, writes.Count, i => ((ITableRow)writes[i].Row, writes[i].Kind, writes[i].IfMatch));
        var etags = new ETag?[writes.Count];
        await SendAsync(body, batch, writes.Count, etags, cancellationToken);
        return etags;
    }

    private async Task SendAsync(PooledBuffer body, string batch, int rows, ETag?[]? etags, CancellationToken cancellationToken)
    {
        using var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = RequestMethod.Post;
        request.Uri.Reset(_batchUri);
        request.Headers.Add("x-ms-version", ServiceVersion);
        request.Headers.Add("DataServiceVersion", "3.0");
        request.Headers.Add("MaxDataServiceVersion", "3.0;NetFx");
        request.Headers.Add("Accept", "application/json");
        request.Headers.Add("Content-Type", "multipart/mixed; boundary=" + batch);
        request.Content = RequestContent.Create(body.WrittenMemory);
        await _pipeline.SendAsync(message, cancellationToken);

        var response = message.Response;
        if (response.Status != 202)
        {
            throw new RequestFailedException(response);
        }

        CheckEveryRowAccepted(response.Content.ToMemory().Span, rows, etags);
    }

    private void WriteBody(PooledBuffer body, string batch, int count, Func<int, (ITableRow Row, TableWriteKind Kind, ETag IfMatch)> rowAt)
    {
        var changeset = "changeset_" + Guid.NewGuid().ToString("D");
        Ascii(body, $"--{batch}\r\nContent-Type: multipart/mixed; boundary={changeset}\r\n\r\n");
        using var json = new Utf8JsonWriter(body);
        for (var i = 0; i < count; i++)
        {
            var (row, kind, ifMatch) = rowAt(i);
            Ascii(body, $"--{changeset}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n");
            if (kind == TableWriteKind.Insert)
            {
                Ascii(body, $"POST {_tableUrl} HTTP/1.1\r\nPrefer: return-no-content\r\n");
            }
            else
            {
                Ascii(body, $"PUT {_tableUrl}(PartitionKey='{KeyInUrl(row.PartitionKey)}',RowKey='{KeyInUrl(row.RowKey)}') HTTP/1.1\r\n");
                if (kind == TableWriteKind.Replace)
                {
                    Ascii(body, $"If-Match: {ifMatch}\r\n");
                }
            }

            Ascii(body, "Accept: application/json;odata=minimalmetadata\r\nContent-Type: application/json\r\nDataServiceVersion: 3.0\r\n\r\n");

            json.Reset(body);
            json.WriteStartObject();
            json.WriteString("PartitionKey", row.PartitionKey);
            json.WriteString("RowKey", row.RowKey);
            row.WriteProperties(new TableRowWriter(json));
            json.WriteEndObject();
            json.Flush();
            Ascii(body, "\r\n");
        }

        Ascii(body, $"--{changeset}--\r\n\r\n--{batch}--\r\n");
    }

    /// <summary>
    /// The answer holds one sub-response per row when the transaction was applied, and a single error sub-response
    /// when it was not: every row must have its own 2xx status line.
    /// </summary>
    private static void CheckEveryRowAccepted(ReadOnlySpan<byte> answer, int rows, ETag?[]? etags)
    {
        var accepted = 0;
        var rest = answer;
        int at;
        while ((at = rest.IndexOf(StatusLine)) >= 0)
        {
            rest = rest[(at + StatusLine.Length)..];
            if (rest.Length < 3 || rest[0] != (byte)'2')
            {
                var end = rest.IndexOfAny((byte)'\r', (byte)'\n');
                var status = Encoding.ASCII.GetString(end < 0 ? rest : rest[..end]);
                throw new RequestFailedException(int.TryParse(status.AsSpan(0, Math.Min(3, status.Length)), out var code) ? code : 400,
                    $"The table refused the transaction: {status}.");
            }

            if (etags is not null && accepted < etags.Length)
            {
                etags[accepted] = ETagOf(rest);
            }

            accepted++;
        }

        if (accepted != rows)
        {
            throw new RequestFailedException(400, $"The table answered {accepted} of {rows} rows of the transaction.");
        }
    }

    /// <summary>The <c>ETag</c> header of the sub-response whose status line <paramref name="response"/> starts after.</summary>
    private static ETag? ETagOf(ReadOnlySpan<byte> response)
    {
        var end = response.IndexOf("\r\n\r\n"u8);
        var headers = Encoding.ASCII.GetString(end < 0 ? response : response[..end]);
        foreach (var line in headers.Split("\r\n"))
        {
            if (line.StartsWith("ETag:", StringComparison.OrdinalIgnoreCase))
            {
                return new ETag(line["ETag:".Length..].Trim());
            }
        }

        return null;
    }

    /// <summary>A key inside the sub-request's URL: quotes doubled (OData), then escaped as a URL's data.</summary>
    private static string KeyInUrl(string key) => Uri.EscapeDataString(key.Replace("'", "''", StringComparison.Ordinal));

    private static void Ascii(PooledBuffer body, string text)
    {
        var span = body.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        body.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    private static Dictionary<string, string> ConnectionSettings(string connectionString)
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=');
            if (equals > 0)
            {
                settings[part[..equals]] = part[(equals + 1)..];
            }
        }

        return settings;
    }

    /// <summary>Azurite's well-known development account key (public and documented; not a secret).</summary>
    private const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>
    /// Shared Key Lite for the Table service: HMAC-SHA256 over the date and the canonical resource (the account and the
    /// URL's path), signed again on every retry so the date stays fresh.
    /// </summary>
    private sealed class SharedKeyLitePolicy(string accountName, byte[] key) : HttpPipelineSynchronousPolicy
    {
        public override void OnSendingRequest(HttpMessage message)
        {
            var date = DateTimeOffset.UtcNow.ToString("r", System.Globalization.CultureInfo.InvariantCulture);
            var resource = "/" + accountName + message.Request.Uri.Path;
            var signature = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(date + "\n" + resource)));
            message.Request.Headers.SetValue("x-ms-date", date);
            message.Request.Headers.SetValue("Authorization", $"SharedKeyLite {accountName}:{signature}");
        }
    }

    /// <summary>A growing buffer rented from the shared pool (a 100-row body would otherwise land on the large object heap).</summary>
    private sealed class PooledBuffer : IBufferWriter<byte>, IDisposable
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        private int _written;

        public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

        public void Advance(int count) => _written += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsMemory(_written);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsSpan(_written);
        }

        public void Dispose()
        {
            var buffer = _buffer;
            _buffer = [];
            if (buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private void Ensure(int sizeHint)
        {
            if (_buffer.Length - _written >= Math.Max(sizeHint, 256))
            {
                return;
            }

            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _written + sizeHint));
            _buffer.AsSpan(0, _written).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
    }
}

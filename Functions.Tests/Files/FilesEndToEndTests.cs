using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Core;
using Anthropic.Exceptions;
using Anthropic.Models.Beta.Files;
using Anthropic.Models.Beta.Messages;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Files;

/// <summary>
/// The Files API through the gateway with the official Anthropic C# SDK (its beta files API, unmodified), in both
/// hosting modes, against the fake Anthropic upstream and the built-in <c>local</c> upstream (Azurite's blob service).
/// </summary>
public sealed class FilesEndToEndTests
{
    public static TheoryData<string> Modes => GatewayHosts.Modes;

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task FilesApi_UploadListRetrieveDownloadDelete_ThroughSdkToAnthropicUpstream(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var client = scenario.Sdk();
        var content = Encoding.UTF8.GetBytes("The quarterly report says revenue grew.");

        // Act
        var uploaded = await UploadAsync(client, "report.txt", content);
        var listed = await client.Beta.Files.List(new FileListParams());
        var metadata = await client.Beta.Files.RetrieveMetadata(uploaded.ID);
        var downloaded = await DownloadAsync(client, uploaded.ID);
        var deleted = await client.Beta.Files.Delete(uploaded.ID, new FileDeleteParams { Betas = [FilesBeta] });
        var afterDelete = await client.Beta.Files.List(new FileListParams());

        // Assert: the SDK's own objects, the upstream's id, the bytes back, the beta header passed through as sent.
        Assert.StartsWith("file_", uploaded.ID, StringComparison.Ordinal);
        Assert.Equal("report.txt", uploaded.Filename);
        Assert.Equal(content.Length, uploaded.SizeBytes);
        Assert.Equal(uploaded.ID, Assert.Single(listed.Items).ID);
        Assert.Equal(uploaded.ID, metadata.ID);
        Assert.Equal("report.txt", metadata.Filename);
        Assert.Equal(content, downloaded);
        Assert.Equal(uploaded.ID, deleted.ID);
        Assert.Empty(afterDelete.Items);
        Assert.Empty(scenario.Upstream!.Files.Files);
        var calls = scenario.Upstream.Files.Received;
        Assert.Equal(["POST /v1/files", $"GET /v1/files/{uploaded.ID}/content", $"DELETE /v1/files/{uploaded.ID}"], calls.Select(static c => c.PathAndQuery));
        Assert.All(calls, static c => Assert.Contains("files-api-2025-04-14", c.Headers["anthropic-beta"], StringComparison.Ordinal));
        Assert.All(calls, static c => Assert.Equal(FakeAnthropicUpstream.UpstreamKey, c.Headers["x-api-key"]));

        // Assert: one usage record per operation, with the size and without the name.
        var records = await WaitForRecordsAsync(scenario.Environment, scenario.Key.Id, 6);
        Assert.Equal(["files.delete", "files.download", "files.list", "files.list", "files.retrieve", "files.upload"],
            records.Select(static r => r.Endpoint).Order(StringComparer.Ordinal));
        Assert.All(records, static r => Assert.Equal((UsageState.Complete, 200, 0m), (r.State, r.Status, r.Cost)));
        Assert.Equal(content.Length, records.Single(static r => r.Endpoint == "files.upload").Bytes);
        Assert.Equal(content.Length, records.Single(static r => r.Endpoint == "files.download").Bytes);
        Assert.All(records, static r => Assert.DoesNotContain("report.txt", r.RawUsage ?? "", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task FilesApi_UploadCiteDownloadDelete_ThroughSdkToLocalUpstream(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode, withAnthropicUpstream: false);
        var client = scenario.Sdk();
        var content = Encoding.UTF8.GetBytes("Local files keep their words.");

        // Act
        var uploaded = await UploadAsync(client, "notes.txt", content);
        var listed = await client.Beta.Files.List(new FileListParams());
        var metadata = await client.Beta.Files.RetrieveMetadata(uploaded.ID);
        var downloaded = await DownloadAsync(client, uploaded.ID);
        var answer = await client.Beta.Messages.Create(CitingMessage(uploaded.ID, "What do the notes say?"));
        await client.Beta.Files.Delete(uploaded.ID);
        var gone = await Assert.ThrowsAsync<AnthropicNotFoundException>(() => client.Beta.Files.RetrieveMetadata(uploaded.ID));

        // Assert: the local upstream held the file in blobs and its echo quotes the cited text.
        Assert.Equal(uploaded.ID, Assert.Single(listed.Items).ID);
        Assert.Equal("text/plain", metadata.MimeType);
        Assert.Equal(content, downloaded);
        var text = Assert.Single(answer.Content).Value as BetaTextBlock;
        Assert.NotNull(text);
        Assert.Equal("Local files keep their words. What do the notes say?", text.Text);
        Assert.Equal(404, (int)gone.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Message_CitingUploadedDocument_GoesToTheHoldingUpstreamWithTheBeta(string mode)
    {
        // Arrange: two Anthropic deployments serve the model, and the one that does not hold the file is the primary
        // (a lower priority); the file lives on the first in name order, which took the upload.
        await using var other = await FakeAnthropicUpstream.StartAsync();
        await using var scenario = await GatewayScenario.StartAsync(mode, configure: settings =>
        {
            foreach (var (key, value) in other.GatewaySettings("zz-other"))
            {
                settings[key] = value;
            }

            settings["Gateway:Upstreams:anthropic:Priority"] = "1";
        });
        var client = scenario.Sdk();
        var uploaded = await UploadAsync(client, "doc.pdf", Encoding.ASCII.GetBytes("%PDF-1.4 /Type /Page"), "application/pdf");

        // Act
        for (var i = 0; i < 4; i++)
        {
            await client.Beta.Messages.Create(CitingMessage(uploaded.ID, "Summarize.", FakeAnthropicUpstream.Models.Text, i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        // Assert
        Assert.Equal(0, other.MessageCalls);
        Assert.Equal(4, scenario.Upstream!.MessageCalls);
        var sent = scenario.Upstream.Received.Where(static r => r.PathAndQuery == "/v1/messages").ToList();
        Assert.All(sent, r => Assert.Contains(uploaded.ID, Encoding.UTF8.GetString(r.Body), StringComparison.Ordinal));
        Assert.All(sent, static r => Assert.Contains("files-api-2025-04-14", r.Headers["anthropic-beta"], StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task TwoKeys_NeitherSeesDownloadsDeletesNorCitesTheOthersFile(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var (otherSecret, otherKey) = await scenario.Environment.CreateKeyAsync("other");
        var owner = scenario.Sdk();
        var intruder = scenario.Sdk(otherSecret);
        var mine = await UploadAsync(owner, "mine.txt", "secret plans"u8.ToArray());
        var theirs = await UploadAsync(intruder, "theirs.txt", "their own"u8.ToArray());
        var messagesBefore = scenario.Upstream!.MessageCalls;
        using var http = scenario.Http();

        // Act
        var ownerList = await owner.Beta.Files.List(new FileListParams());
        var intruderList = await intruder.Beta.Files.List(new FileListParams());
        var foreign = await SendAsync(http, otherSecret, HttpMethod.Get, $"v1/files/{mine.ID}");
        var missing = await SendAsync(http, otherSecret, HttpMethod.Get, "v1/files/file_011DoesNotExist0000000000");
        var download = await SendAsync(http, otherSecret, HttpMethod.Get, $"v1/files/{mine.ID}/content");
        var delete = await SendAsync(http, otherSecret, HttpMethod.Delete, $"v1/files/{mine.ID}");
        var cite = await SendAsync(http, otherSecret, HttpMethod.Post, "v1/messages", CitingJson(mine.ID));
        var forged = await SendAsync(http, otherSecret, HttpMethod.Post, "v1/messages", CitingJson("file_011Forged00000000000000"));
        var countForeign = await SendAsync(http, otherSecret, HttpMethod.Post, "v1/messages/count_tokens", CitingJson(mine.ID));
        var pathLike = await SendAsync(http, otherSecret, HttpMethod.Post, "v1/messages", CitingJson("../file_x"));

        // Assert: each key lists only its own; every other answer is the 404 a missing file gets, word for word.
        Assert.Equal(mine.ID, Assert.Single(ownerList.Items).ID);
        Assert.Equal(theirs.ID, Assert.Single(intruderList.Items).ID);
        foreach (var (status, body) in new[] { foreign, download, delete, cite, countForeign })
        {
            Assert.Equal(HttpStatusCode.NotFound, status);
            Assert.Equal("not_found_error", ErrorType(body));
            Assert.Equal($"File not found: {mine.ID}", ErrorMessage(body));
        }

        Assert.Equal((HttpStatusCode.NotFound, "File not found: file_011DoesNotExist0000000000"), (missing.Status, ErrorMessage(missing.Body)));
        Assert.Equal((HttpStatusCode.NotFound, "File not found: file_011Forged00000000000000"), (forged.Status, ErrorMessage(forged.Body)));
        Assert.Equal((HttpStatusCode.NotFound, "File not found."), (pathLike.Status, ErrorMessage(pathLike.Body)));

        // Assert: nothing of it reached the upstream, and the owner's file is still there.
        Assert.Equal(messagesBefore, scenario.Upstream.MessageCalls);
        Assert.DoesNotContain(scenario.Upstream.Received, static r => r.PathAndQuery.StartsWith("/v1/messages", StringComparison.Ordinal));
        Assert.DoesNotContain(scenario.Upstream.Files.Received, r => r.PathAndQuery.Contains(mine.ID + "/content", StringComparison.Ordinal) ||
                                                                    r.PathAndQuery.StartsWith("DELETE", StringComparison.Ordinal));
        Assert.True(scenario.Upstream.Files.Files.ContainsKey(mine.ID));
        Assert.Equal(mine.ID, (await owner.Beta.Files.RetrieveMetadata(mine.ID)).ID);
        Assert.NotEqual(scenario.Key.Id, otherKey.Id);
    }

    [Fact]
    public async Task Admin_ListsAndDeletesADeletedKeysFiles()
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone);
        var uploaded = await UploadAsync(scenario.Sdk(), "left.txt", "left behind"u8.ToArray());
        using var http = scenario.Http();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayTestEnvironment.AdminKey);
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"manage/keys/{scenario.Key.Id}")).StatusCode);

        // Act
        using var listed = JsonDocument.Parse(await http.GetStringAsync($"manage/keys/{scenario.Key.Id}/files"));
        var deleted = await http.DeleteAsync($"manage/keys/{scenario.Key.Id}/files/{uploaded.ID}");
        using var after = JsonDocument.Parse(await http.GetStringAsync($"manage/keys/{scenario.Key.Id}/files"));
        var wrongMethod = await http.PostAsync($"manage/keys/{scenario.Key.Id}/files", null);

        // Assert
        var file = Assert.Single(listed.RootElement.GetProperty("data").EnumerateArray());
        Assert.Equal(uploaded.ID, file.GetProperty("id").GetString());
        Assert.Equal("anthropic", file.GetProperty("upstream").GetString());
        Assert.Equal("left.txt", file.GetProperty("file").GetProperty("filename").GetString());
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Empty(after.RootElement.GetProperty("data").EnumerateArray());
        Assert.Empty(scenario.Upstream!.Files.Files);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
    }

    [Fact]
    public async Task LocalUpstream_EchoesACitedPdfsSizeAndPages()
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone, withAnthropicUpstream: false);
        var client = scenario.Sdk();
        var pdf = Encoding.ASCII.GetBytes("%PDF-1.4\n1 0 obj << /Type /Pages /Kids [2 0 R 3 0 R] >>\n2 0 obj << /Type /Page >>\n3 0 obj << /Type/Page >>\n%%EOF");
        var uploaded = await UploadAsync(client, "two.pdf", pdf, "application/pdf");

        // Act
        var answer = await client.Beta.Messages.Create(CitingMessage(uploaded.ID, "Pages?"));

        // Assert
        var text = Assert.Single(answer.Content).Value as BetaTextBlock;
        Assert.Equal($"[PDF {uploaded.ID}: {pdf.Length} bytes, 2 pages] Pages?", text!.Text);
    }

    [Fact]
    public async Task Upload_DeclaredOverTheLimit_IsRequestTooLarge_BeforeTheUpstream()
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(GatewayHosts.Standalone, configure: static settings =>
            settings["Gateway:Files:MaxUploadBytes"] = "1024");
        using var http = scenario.Http();

        // Act
        using var response = await http.SendAsync(new GeneratedUpload(4096).Request(scenario.Secret));

        // Assert
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("request_too_large", ErrorType(await response.Content.ReadAsStringAsync()));
        Assert.Empty(scenario.Upstream!.Files.Received);
        var record = Assert.Single(await WaitForRecordsAsync(scenario.Environment, scenario.Key.Id, 1));
        Assert.Equal(("files.upload", 413, UsageState.Failed), (record.Endpoint, record.Status, record.State));
    }

    private const string FilesBeta = "files-api-2025-04-14";

    internal static async Task<BetaFileMetadata> UploadAsync(AnthropicClient client, string name, byte[] content, string mimeType = "text/plain") =>
        await client.Beta.Files.Upload(new FileUploadParams
        {
            File = new BinaryContent { Stream = new MemoryStream(content), FileName = name, ContentType = new MediaTypeHeaderValue(mimeType) },
            Betas = [FilesBeta],
        });

    private static async Task<byte[]> DownloadAsync(AnthropicClient client, string id)
    {
        using var response = await client.Beta.Files.Download(id, new FileDownloadParams { Betas = [FilesBeta] });
        await using var stream = await response.ReadAsStream();
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    private static MessageCreateParams CitingMessage(string fileId, string question, string model = "claude-sonnet-4-5", string? user = null) => new()
    {
        Model = model,
        MaxTokens = 64,
        Betas = [FilesBeta],
        Metadata = user is null ? null : new BetaMetadata { UserID = user },
        Messages =
        [
            new BetaUserMessageParam
            {
                Content = new List<BetaContentBlockParam>
                {
                    new BetaRequestDocumentBlock { Source = new BetaFileDocumentSource { FileID = fileId } },
                    new BetaTextBlockParam { Text = question },
                },
            },
        ],
    };

    internal static string CitingJson(string fileId) =>
        """{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"file","file_id":""" +
        JsonSerializer.Serialize(fileId, FakeJson.Default.String) + """}},{"type":"text","text":"Summarize."}]}]}""";

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpClient http, string secret, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("x-api-key", secret);
        request.Headers.Add("anthropic-version", "2023-06-01");
        request.Headers.Add("anthropic-beta", "files-api-2025-04-14");
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string? ErrorType(string body)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("error").GetProperty("type").GetString();
    }

    private static string? ErrorMessage(string body)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("error").GetProperty("message").GetString();
    }

    internal static async Task<List<UsageRecord>> WaitForRecordsAsync(GatewayTestEnvironment environment, string keyId, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var records = await environment.AllUsageAsync(keyId);
            if (records.Count >= count || DateTime.UtcNow > deadline)
            {
                return records;
            }

            await Task.Delay(100);
        }
    }
}

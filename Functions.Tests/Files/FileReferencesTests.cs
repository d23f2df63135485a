using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Qhaigc.Functions.Files;
using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.Files;

/// <summary>
/// Which requests name a file (docs/files.md#references), the ownership check over the objects table (Azurite), and
/// that a request naming no file pays no table read.
/// </summary>
public sealed class FileReferencesTests
{
    private const string Alice = "key_00000000000000alice";
    private const string Mallory = "key_0000000000000mallory";

    public static TheoryData<string, bool> Bodies => new()
    {
        { """{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"plain text"}]}""", false },
        { """{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="}}]}]}""", false },
        { """{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"file","file_id":"file_a"}}]}]}""", true },
        { """{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"file_a"}}]}]}""", true },
        { """{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"container_upload","file_id":"file_a"}]}]}""", true },
        { """{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"document","source":{"type":"file","file_id":"file_a"}}]}]}]}""", true },
        { """{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"content","content":[{"type":"image","source":{"type":"file","file_id":"file_a"}}]}}]}]}""", true },
        { """{"model":"m","max_tokens":1,"system":[{"type":"document","source":{"type":"file","file_id":"file_a"}}],"messages":[{"role":"user","content":"hi"}]}""", true },
        { """{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"file"}}]}]}""", true },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Validator_MarksRequestsThatNameAFile_AndTheCheckFindsTheSameOnes(string body, bool namesFile)
    {
        // Act
        using var request = MessagesRequestValidator.Parse(Encoding.UTF8.GetBytes(body), out var error);

        // Assert
        Assert.Null(error);
        Assert.Equal(namesFile, request!.ReferencesFiles);
        Assert.Equal(namesFile, FileSources.CollectAll(request.Root).Count > 0);
    }

    [Fact]
    public async Task FindAsync_AnswersTheHoldingUpstream_OrNotFoundForAnotherKeysOrMissingFile_OrRefusesTwoUpstreams()
    {
        // Arrange
        var store = (await GatewayTestEnvironment.CreateAsync()).Objects;
        await store.AddAsync(File(Alice, "file_alice1", "east"), CancellationToken.None);
        await store.AddAsync(File(Alice, "file_alice2", "east"), CancellationToken.None);
        await store.AddAsync(File(Alice, "file_alice3", "west"), CancellationToken.None);
        await store.AddAsync(File(Mallory, "file_mallory", "east"), CancellationToken.None);
        var references = new FileReferences(store);

        // Act
        var none = await references.FindAsync(Alice, Body(), CancellationToken.None);
        var own = await references.FindAsync(Alice, Body("file_alice1", "file_alice2", "file_alice1"), CancellationToken.None);
        var foreign = await references.FindAsync(Alice, Body("file_alice1", "file_mallory"), CancellationToken.None);
        var missing = await references.FindAsync(Alice, Body("file_nothing"), CancellationToken.None);
        var split = await references.FindAsync(Alice, Body("file_alice1", "file_alice3"), CancellationToken.None);

        // Assert
        Assert.Equal(FileReferenceCheck.None, none);
        Assert.Equal(new FileReferenceCheck("east", null), own);
        Assert.Equal((404, "not_found_error", "File not found: file_mallory"), (foreign.Error!.Status, foreign.Error.Type, foreign.Error.Message));
        Assert.Equal((404, "File not found: file_nothing"), (missing.Error!.Status, missing.Error.Message));
        Assert.Equal(400, split.Error!.Status);
    }

    [Fact]
    public async Task FindAsync_ReadsEachFileOnce_ForAllTheRequestsOfOneBatch()
    {
        // Arrange: a batch whose every request names the same two files (a hostile batch: 500 requests).
        var environment = await GatewayTestEnvironment.CreateAsync();
        await environment.Objects.AddAsync(File(Alice, "file_alice1", "east"), CancellationToken.None);
        await environment.Objects.AddAsync(File(Alice, "file_alice2", "east"), CancellationToken.None);
        var counting = new CountingOwnedObjectStore(environment.Objects);
        var references = new FileReferences(counting);
        var seen = new Dictionary<string, OwnedObject?>(StringComparer.Ordinal);

        // Act
        var checks = new List<FileReferenceCheck>();
        for (var i = 0; i < 500; i++)
        {
            checks.Add(await references.FindAsync(Alice, Body("file_alice1", "file_alice2"), CancellationToken.None, seen));
        }

        var foreign = await references.FindAsync(Alice, Body("file_alice1", "file_mallory"), CancellationToken.None, seen);

        // Assert: two reads for the batch's 1,000 citations; a file not the key's is still not found.
        Assert.All(checks, static check => Assert.Equal(new FileReferenceCheck("east", null), check));
        Assert.Equal(3, counting.Reads);
        Assert.Equal(404, foreign.Error!.Status);
    }

    [Fact]
    public async Task Messages_WithoutAFileReference_ReadNoTable()
    {
        // Arrange: the gateway's reference check over a store that counts its reads.
        var environment = await GatewayTestEnvironment.CreateAsync();
        await using var upstream = await FakeAnthropicUpstream.StartAsync();
        var counting = new CountingOwnedObjectStore(environment.Objects);
        var (secret, _) = await environment.CreateKeyAsync();
        await using var host = await StandaloneGatewayHost.StartAsync(environment.Settings(upstream.GatewaySettings()),
            builder => builder.Services.AddSingleton(new FileReferences(counting)));
        using var http = RawClient.Create(host.BaseAddress);
        var plain = """{"model":"fake-text","max_tokens":16,"messages":[{"role":"user","content":[{"type":"text","text":"Hello"},{"type":"image","source":{"type":"url","url":"https://example.com/a.png"}}]}]}""";

        // Act
        var answers = new List<HttpStatusCode>();
        foreach (var path in new[] { "v1/messages", "v1/messages/count_tokens", "v1/messages" })
        {
            answers.Add(await PostAsync(http, secret, path, plain));
        }

        var readsWithoutFiles = counting.Reads;
        var cited = await PostAsync(http, secret, "v1/messages", FilesEndToEndTests.CitingJson("file_011NotMine000000000000"));

        // Assert
        Assert.All(answers, static status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(0, readsWithoutFiles);
        Assert.Equal(HttpStatusCode.NotFound, cited);
        Assert.Equal(1, counting.Reads);
    }

    private static async Task<HttpStatusCode> PostAsync(HttpClient http, string secret, string path, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-api-key", secret);
        request.Headers.Add("anthropic-version", "2023-06-01");
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static JsonElement Body(params string[] fileIds)
    {
        var blocks = string.Join(',', fileIds.Select(static id => """{"type":"document","source":{"type":"file","file_id":""" + "\"" + id + "\"}}"));
        using var document = JsonDocument.Parse("""{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[""" + blocks +
                                                (fileIds.Length > 0 ? "," : "") + """{"type":"text","text":"x"}]}]}""");
        return document.RootElement.Clone();
    }

    private static OwnedObject File(string owner, string id, string upstream) => new()
    {
        Kind = OwnedKinds.File, Id = id, OwnerKeyId = owner, Upstream = upstream, UpstreamId = id, CreatedAt = DateTimeOffset.UtcNow,
        State = """{"id":"x","type":"file"}""",
    };
}

using System.Net;
using System.Text.Json;
using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Tests.TestDoubles;

namespace Qhaigc.Functions.Tests.Files;

/// <summary>
/// A key's <c>maxFiles</c> and <c>maxFileBytes</c> (docs/files.md#how-many-files-a-key-holds): the files and bytes it
/// may hold at once, so one tenant cannot fill the upstream account's file storage. Tried the ways a tenant would try to
/// beat them: one more upload, many uploads at once, a body too long to fit sent with or without its length, files
/// recorded before the limits were counted. Against Azurite, in every hosting mode.
/// </summary>
public sealed class FileQuotaTests
{
    public static TheoryData<string> Modes => GatewayHosts.Modes;

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task AKeyAtItsFileLimit_IsRefused_UntilItDeletesOne(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var (secret, _) = await scenario.Environment.CreateKeyAsync(limits: """{"maxFiles":2}""");
        var (other, _) = await scenario.Environment.CreateKeyAsync(limits: """{"maxFiles":1}""");
        using var http = scenario.Http();

        // Act
        var first = await IdOfAsync(await http.SendAsync(RawClient.UploadFile(secret, "one.txt")));
        await IdOfAsync(await http.SendAsync(RawClient.UploadFile(secret, "two.txt")));
        using var third = await http.SendAsync(RawClient.UploadFile(secret, "three.txt"));
        using var others = await http.SendAsync(RawClient.UploadFile(other, "theirs.txt"));
        using var deleted = await http.SendAsync(RawClient.DeleteFile(secret, first));
        using var afterDelete = await http.SendAsync(RawClient.UploadFile(secret, "four.txt"));
        using var againFull = await http.SendAsync(RawClient.UploadFile(secret, "five.txt"));

        // Assert: the refused uploads never reached the upstream; the other key has its own count.
        await GatewayAssert.ErrorAsync(third, 403, "permission_error", "This API key may hold at most 2 files at once; delete one to upload another.");
        Assert.Equal(HttpStatusCode.OK, others.StatusCode);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.OK, afterDelete.StatusCode);
        await GatewayAssert.ErrorAsync(againFull, 403, "permission_error");
        Assert.Equal(4, scenario.Upstream!.Files.Received.Count(static c => c.PathAndQuery == "POST /v1/files"));
        Assert.Equal(3, scenario.Upstream.Files.Files.Count);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task ManyUploadsAtOnce_CannotHoldMoreThanTheLimit(string mode)
    {
        // Arrange
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var (secret, key) = await scenario.Environment.CreateKeyAsync(limits: """{"maxFiles":3}""");
        using var http = scenario.Http();

        // Act: twelve uploads sent together.
        var done = await UploadTogetherAsync(http, i => RawClient.UploadFile(secret, $"f{i}.txt"));
        var held = await scenario.Environment.Objects.OwnedByAsync(key.Id, OwnedKinds.File, CancellationToken.None).CountAsync();
        var counted = (await scenario.Environment.Objects.FileHoldingsAsync(key.Id, CancellationToken.None)).Count;

        // Assert: no more files are held than the limit, on the gateway or upstream (an upload let through by the check
        // before it and refused by the count is taken back); each refusal was a 403.
        Assert.InRange(done, 1, 3);
        Assert.Equal(done, held);
        Assert.Equal(done, counted);
        Assert.Equal(done, scenario.Upstream!.Files.Files.Count);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task FilesRecordedBeforeTheCount_AreCounted(string mode)
    {
        // Arrange: two files of the key's recorded without a count (as before the limit existed).
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var (secret, key) = await scenario.Environment.CreateKeyAsync(limits: """{"maxFiles":2}""");
        await RecordUncountedFilesAsync(scenario, key.Id, static _ => null);
        using var http = scenario.Http();

        // Act
        using var upload = await http.SendAsync(RawClient.UploadFile(secret, "one-more.txt"));

        // Assert
        await GatewayAssert.ErrorAsync(upload, 403, "permission_error");
        Assert.Empty(scenario.Upstream!.Files.Received);
        Assert.Equal(2, (await scenario.Environment.Objects.FileHoldingsAsync(key.Id, CancellationToken.None)).Count);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task AKeyAtItsByteLimit_IsRefused_UntilItDeletesFiles(string mode)
    {
        // Arrange: room for two files of 25 bytes, not three.
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var (secret, key) = await scenario.Environment.CreateKeyAsync(limits: """{"maxFileBytes":60}""");
        using var http = scenario.Http();

        // Act
        var first = await IdOfAsync(await http.SendAsync(RawClient.UploadFile(secret, "a.txt", Bytes(25))));
        await IdOfAsync(await http.SendAsync(RawClient.UploadFile(secret, "b.txt", Bytes(25))));
        using var third = await http.SendAsync(RawClient.UploadFile(secret, "c.txt", Bytes(25)));
        var afterRefusal = await scenario.Environment.Objects.FileHoldingsAsync(key.Id, CancellationToken.None);
        using var deleted = await http.SendAsync(RawClient.DeleteFile(secret, first));
        var afterDelete = await scenario.Environment.Objects.FileHoldingsAsync(key.Id, CancellationToken.None);
        using var again = await http.SendAsync(RawClient.UploadFile(secret, "d.txt", Bytes(25)));
        var heldAsTheHolderSees = await CurrentAsync(http, "v1/gateway/key", secret);
        var heldAsTheOperatorSees = await CurrentAsync(http, $"manage/keys/{key.Id}", GatewayTestEnvironment.AdminKey);

        // Assert: the third went upstream (only its size could tell it does not fit) and was taken back; deleting a
        // file made room for another.
        await GatewayAssert.ErrorAsync(third, 403, "permission_error",
            "This API key may hold at most 60 bytes of files at once, and this file does not fit; delete files to make room.");
        Assert.Equal(new FileHoldings(2, 50), afterRefusal);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(new FileHoldings(1, 25), afterDelete);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(new FileHoldings(2, 50), await scenario.Environment.Objects.FileHoldingsAsync(key.Id, CancellationToken.None));
        Assert.Equal((2L, 50L), heldAsTheHolderSees);
        Assert.Equal((2L, 50L), heldAsTheOperatorSees);
        Assert.Equal(4, scenario.Upstream!.Files.Received.Count(static c => c.PathAndQuery == "POST /v1/files"));
        Assert.Equal(2, scenario.Upstream.Files.Files.Count);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task ABodyTooLongToFit_IsRefusedBeforeItGoesUpstream_WithOrWithoutItsLength(string mode)
    {
        // Arrange: 1,000 bytes of room, and bodies of 2 MiB, which no multipart framing can make a file that fits.
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var (secret, key) = await scenario.Environment.CreateKeyAsync(limits: """{"maxFileBytes":1000}""");
        using var http = scenario.Http();
        const long size = 2 * 1024 * 1024;

        // Act: one body with its length declared, one sent in chunks without it.
        using var declared = await http.SendAsync(new GeneratedUpload(size).Request(secret));
        using var chunked = await http.SendAsync(new GeneratedUpload(size) { Chunked = true }.Request(secret));

        // Assert: the declared one never reached the upstream; the chunked one was cut once it passed the room left
        // and its framing, its upstream upload cancelled; neither left a file anywhere.
        await GatewayAssert.ErrorAsync(declared, 403, "permission_error",
            "This API key may hold at most 1,000 bytes of files at once, and this file does not fit; delete files to make room.");
        await GatewayAssert.ErrorAsync(chunked, 403, "permission_error",
            "This API key may hold at most 1,000 bytes of files at once, and this file does not fit; delete files to make room.");
        Assert.True(scenario.Upstream!.Files.Received.Count(static c => c.PathAndQuery == "POST /v1/files") <= 1);
        Assert.InRange(scenario.Upstream.Files.UploadBytesReceived, 0, size - 1);
        Assert.DoesNotContain(scenario.Upstream.Files.Received, static c => c.PathAndQuery.StartsWith("DELETE", StringComparison.Ordinal));
        Assert.Empty(scenario.Upstream.Files.Files);
        Assert.Equal(new FileHoldings(0, 0), await scenario.Environment.Objects.FileHoldingsAsync(key.Id, CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task ManyUploadsAtOnce_CannotHoldMoreBytesThanTheLimit(string mode)
    {
        // Arrange: room for two files of 40 bytes.
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var (secret, key) = await scenario.Environment.CreateKeyAsync(limits: """{"maxFileBytes":100}""");
        using var http = scenario.Http();

        // Act: twelve uploads sent together, each passing the check before its upload.
        var done = await UploadTogetherAsync(http, i => RawClient.UploadFile(secret, $"f{i}.txt", Bytes(40)));
        var held = await scenario.Environment.Objects.FileHoldingsAsync(key.Id, CancellationToken.None);

        // Assert: never more than the limit, on the gateway or upstream; each refusal was a 403.
        Assert.InRange(done, 1, 2);
        Assert.Equal(new FileHoldings(done, done * 40), held);
        Assert.Equal(done, scenario.Upstream!.Files.Files.Count);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task FilesRecordedBeforeBytesWereCounted_AreCountedByTheirSize(string mode)
    {
        // Arrange: two files of 30 bytes recorded with no size of their own and no count (as before the limits existed);
        // their state is the upstream's file object.
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var (secret, key) = await scenario.Environment.CreateKeyAsync(limits: """{"maxFileBytes":70}""");
        await RecordUncountedFilesAsync(scenario, key.Id, static id => $$"""{"id":"{{id}}","type":"file","filename":"old.txt","mime_type":"text/plain","size_bytes":30}""");
        using var http = scenario.Http();

        // Act
        using var tooMany = await http.SendAsync(RawClient.UploadFile(secret, "more.txt", Bytes(20)));
        using var fits = await http.SendAsync(RawClient.UploadFile(secret, "small.txt", Bytes(10)));

        // Assert
        await GatewayAssert.ErrorAsync(tooMany, 403, "permission_error");
        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
        Assert.Equal(new FileHoldings(3, 70), await scenario.Environment.Objects.FileHoldingsAsync(key.Id, CancellationToken.None));
        Assert.Single(scenario.Upstream!.Files.Files);
    }

    /// <summary>Twelve uploads sent together: how many went through, every other one having been refused with a 403.</summary>
    private static async Task<int> UploadTogetherAsync(HttpClient http, Func<int, HttpRequestMessage> upload)
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => http.SendAsync(upload(i))));
        try
        {
            Assert.All(responses.Where(static r => r.StatusCode != HttpStatusCode.OK), static r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
            return responses.Count(static r => r.StatusCode == HttpStatusCode.OK);
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    /// <summary>Two files of the key's recorded as before their key's holdings were counted: no count, no size of their own.</summary>
    private static async Task RecordUncountedFilesAsync(GatewayScenario scenario, string keyId, Func<string, string?> state)
    {
        foreach (var id in new[] { "file_011CNha8iCJcU1wXNR6q4V8w", "file_011CNha8iCJcU1wXNR6q4V8x" })
        {
            Assert.True(await scenario.Environment.Objects.AddAsync(new OwnedObject
            {
                Kind = OwnedKinds.File, Id = id, OwnerKeyId = keyId, Upstream = "anthropic", UpstreamId = id, CreatedAt = DateTimeOffset.UtcNow, State = state(id),
            }, CancellationToken.None));
        }
    }

    /// <summary>The files and bytes held, as a key's <c>current</c> counters show them (its own view, or the operator's).</summary>
    private static async Task<(long Files, long Bytes)> CurrentAsync(HttpClient http, string path, string bearer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var current = document.RootElement.GetProperty("current");
        return (current.GetProperty("filesHeld").GetInt64(), current.GetProperty("fileBytesHeld").GetInt64());
    }

    private static ByteArrayContent Bytes(int count) => new(Enumerable.Repeat((byte)'x', count).ToArray());

    private static async Task<string> IdOfAsync(HttpResponseMessage response)
    {
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return document.RootElement.GetProperty("id").GetString()!;
        }
    }
}

using System.Net;
using System.Text.Json;
using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Files;

/// <summary>
/// A key's <c>maxFiles</c> (docs/files.md#how-many-files-a-key-holds): the files it may hold at once, so one tenant
/// cannot fill the upstream account's file storage. Tried the ways a tenant would try to beat it: one more upload,
/// many uploads at once, files recorded before the limit was counted. Against Azurite, in every hosting mode.
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
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => http.SendAsync(RawClient.UploadFile(secret, $"f{i}.txt"))));
        var held = await scenario.Environment.Objects.OwnedByAsync(key.Id, OwnedKinds.File, CancellationToken.None).CountAsync();
        var counted = await scenario.Environment.Objects.CountFilesAsync(key.Id, CancellationToken.None);

        // Assert: no more files are held than the limit, on the gateway or upstream (an upload let through by the check
        // before it and refused by the count is taken back), and each refusal says why.
        var done = responses.Count(static r => r.StatusCode == HttpStatusCode.OK);
        Assert.InRange(done, 1, 3);
        Assert.All(responses.Where(static r => r.StatusCode != HttpStatusCode.OK),
            static r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
        Assert.Equal(done, held);
        Assert.Equal(done, counted);
        Assert.Equal(done, scenario.Upstream!.Files.Files.Count);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task FilesRecordedBeforeTheCount_AreCounted(string mode)
    {
        // Arrange: two files of the key's recorded without a count (as before the limit existed).
        await using var scenario = await GatewayScenario.StartAsync(mode);
        var (secret, key) = await scenario.Environment.CreateKeyAsync(limits: """{"maxFiles":2}""");
        foreach (var id in new[] { "file_011CNha8iCJcU1wXNR6q4V8w", "file_011CNha8iCJcU1wXNR6q4V8x" })
        {
            Assert.True(await scenario.Environment.Objects.AddAsync(new OwnedObject
            {
                Kind = OwnedKinds.File, Id = id, OwnerKeyId = key.Id, Upstream = "anthropic", UpstreamId = id, CreatedAt = DateTimeOffset.UtcNow,
            }, CancellationToken.None));
        }

        using var http = scenario.Http();

        // Act
        using var upload = await http.SendAsync(RawClient.UploadFile(secret, "one-more.txt"));

        // Assert
        await GatewayAssert.ErrorAsync(upload, 403, "permission_error");
        Assert.Empty(scenario.Upstream!.Files.Received);
        Assert.Equal(2, await scenario.Environment.Objects.CountFilesAsync(key.Id, CancellationToken.None));
    }

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

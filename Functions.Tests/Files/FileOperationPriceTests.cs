using System.Net;
using Anthropic.Models.Beta.Files;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Files;

/// <summary>
/// File operations the operator prices (<c>Gateway:Files:Prices</c>) are held to the key's spend cap as Messages calls
/// are (docs/files.md#usage-and-prices): a tenant cannot run up a bill past its cap by uploading or listing, not even
/// with many uploads at once, and a refused or failed operation costs nothing. Against Azurite, in every hosting mode.
/// </summary>
public sealed class FileOperationPriceTests
{
    private const decimal UploadPrice = 0.01m;
    private const decimal ListPrice = 0.004m;

    public static TheoryData<string> Modes => GatewayHosts.Modes;

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task PricedFileOperations_StopAtTheSpendCap_AndRefusalsCostNothing(string mode)
    {
        // Arrange: uploads cost 0.01, lists 0.004; the key may spend 0.025.
        await using var scenario = await StartAsync(mode);
        var (secret, key) = await scenario.Environment.CreateKeyAsync(limits: """{"spendCap":0.025}""");
        var (unlimited, _) = await scenario.Environment.CreateKeyAsync();
        using var http = scenario.Http();

        // Act: two uploads and a list (0.024 spent), then one more of each, and a free operation.
        using var first = await http.SendAsync(RawClient.UploadFile(secret, "one.txt"));
        using var second = await http.SendAsync(RawClient.UploadFile(secret, "two.txt"));
        using var listed = await http.SendAsync(RawClient.Get(secret, "v1/files"));
        using var third = await http.SendAsync(RawClient.UploadFile(secret, "three.txt"));
        using var listedAgain = await http.SendAsync(RawClient.Get(secret, "v1/files"));
        var id = await IdOfAsync(first);
        using var retrieved = await http.SendAsync(RawClient.Get(secret, $"v1/files/{id}"));
        using var notMine = await http.SendAsync(RawClient.Get(unlimited, $"v1/files/{id}"));

        // Assert: the cap holds; what was refused says why, costs nothing, and never reached the upstream.
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        await GatewayAssert.ErrorAsync(third, 402, "billing_error",
            "This API key's spend cap does not cover this file operation: 0.001 USD of 0.025 USD remain this month, and it costs 0.01 USD. Ask the operator to raise the cap.");
        await GatewayAssert.ErrorAsync(listedAgain, 402, "billing_error");
        Assert.Equal(HttpStatusCode.OK, retrieved.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, notMine.StatusCode);
        Assert.Equal(2, scenario.Upstream!.Files.Received.Count(static c => c.PathAndQuery == "POST /v1/files"));
        var records = await FilesEndToEndTests.WaitForRecordsAsync(scenario.Environment, key.Id, 6);
        Assert.Equal(2 * UploadPrice + ListPrice, records.Sum(static r => r.Cost ?? 0));
        Assert.All(records.Where(static r => r.Status != 200), static r => Assert.Equal(0m, r.Cost));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task ManyUploadsAtOnce_CannotSpendPastTheCap(string mode)
    {
        // Arrange: room for three uploads.
        await using var scenario = await StartAsync(mode);
        var (secret, key) = await scenario.Environment.CreateKeyAsync(limits: """{"spendCap":0.035}""");
        using var http = scenario.Http();

        // Act: ten uploads sent together.
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => http.SendAsync(RawClient.UploadFile(secret, $"f{i}.txt"))));

        // Assert: no more were done than the cap pays for, and every one done was billed.
        var done = responses.Count(static r => r.StatusCode == HttpStatusCode.OK);
        Assert.InRange(done, 1, 3);
        Assert.All(responses.Where(static r => r.StatusCode != HttpStatusCode.OK),
            static r => Assert.True(r.StatusCode is (HttpStatusCode)402 or (HttpStatusCode)429, r.StatusCode.ToString()));
        Assert.Equal(done, scenario.Upstream!.Files.Files.Count);
        var records = await FilesEndToEndTests.WaitForRecordsAsync(scenario.Environment, key.Id, 10);
        Assert.Equal(done * UploadPrice, records.Sum(static r => r.Cost ?? 0));
        Assert.True(records.Sum(static r => r.Cost ?? 0) <= 0.035m);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task PricedFileOperations_OfAKeyWithoutACap_AreBilledAndNotHeld(string mode)
    {
        // Arrange
        await using var scenario = await StartAsync(mode);
        var client = scenario.Sdk();

        // Act
        var uploaded = await FilesEndToEndTests.UploadAsync(client, "a.txt", "a"u8.ToArray());
        await client.Beta.Files.List(new FileListParams());
        await client.Beta.Files.RetrieveMetadata(uploaded.ID);

        // Assert
        var records = await FilesEndToEndTests.WaitForRecordsAsync(scenario.Environment, scenario.Key.Id, 3);
        Assert.Equal(UploadPrice + ListPrice, records.Sum(static r => r.Cost ?? 0));
        Assert.All(records, static r => Assert.Equal(UsageState.Complete, r.State));
    }

    private static Task<GatewayScenario> StartAsync(string mode) =>
        GatewayScenario.StartAsync(mode, configure: static settings =>
        {
            settings["Gateway:Files:Prices:upload"] = UploadPrice.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings["Gateway:Files:Prices:list"] = ListPrice.ToString(System.Globalization.CultureInfo.InvariantCulture);
        });

    private static async Task<string> IdOfAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("id").GetString()!;
    }
}

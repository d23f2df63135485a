using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Sas;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Files;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Files;

/// <summary>
/// The <c>local</c> upstream's blob store against Azurite's blob service, reached as Azure's template leaves it: the
/// container exists, and the store may use its blobs but not create containers (docs/files.md#local-files).
/// </summary>
public sealed class LocalFileStoreTests
{
    [Fact]
    public async Task Store_UsesTheContainerItMayNotCreate()
    {
        // Arrange: the container is made beforehand (as the template makes it), and the store holds a SAS for that
        // container alone, which lets it read, write and delete blobs but refuses a container's creation, as Azure
        // refuses it to an identity with a role on the container only.
        var azurite = await AzuriteServer.SharedAsync();
        var name = "files-" + Guid.NewGuid().ToString("N")[..12];
        var container = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(name);
        await container.CreateAsync();
        var sas = container.GenerateSasUri(
            BlobContainerSasPermissions.Read | BlobContainerSasPermissions.Create | BlobContainerSasPermissions.Write | BlobContainerSasPermissions.Delete,
            DateTimeOffset.UtcNow.AddHours(1));
        var connectionString = $"BlobEndpoint=http://127.0.0.1:{azurite.BlobPort}/{AzuriteServer.AccountName};SharedAccessSignature={sas.Query.TrimStart('?')}";
        var store = new LocalFileStore(Options.Create(new GatewayOptions { Storage = { ConnectionString = connectionString, FilesContainer = name } }));
        var refused = await Assert.ThrowsAsync<RequestFailedException>(() => new BlobServiceClient(connectionString).GetBlobContainerClient(name).CreateAsync());

        // Act
        var blob = await store.BlobAsync("file_011CNha8iCJcU1wXNR6q4V8w", CancellationToken.None);
        await blob.UploadAsync(BinaryData.FromString("Kept in a container made for it."), new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "text/plain" },
        });
        var head = await store.ReadHeadAsync("file_011CNha8iCJcU1wXNR6q4V8w", 4, CancellationToken.None);

        // Assert: the create was refused, and the store went on to write and read the file in the existing container.
        Assert.Equal(403, refused.Status);
        Assert.NotNull(head);
        Assert.Equal(("text/plain", 32L), (head.Value.ContentType, head.Value.Size));
        Assert.Equal("Kept"u8.ToArray(), head.Value.Head);
        Assert.True(await container.GetBlobClient("file_011CNha8iCJcU1wXNR6q4V8w").ExistsAsync());
    }

    [Fact]
    public async Task Store_CreatesTheContainerWhereItMay()
    {
        // Arrange: the development account's own key, as Azurite runs for ./start.sh; no container yet.
        var azurite = await AzuriteServer.SharedAsync();
        var name = "files-" + Guid.NewGuid().ToString("N")[..12];
        var store = new LocalFileStore(Options.Create(new GatewayOptions { Storage = { ConnectionString = azurite.ConnectionString, FilesContainer = name } }));

        // Act
        var blob = await store.BlobAsync("file_011CNha8iCJcU1wXNR6q4V8x", CancellationToken.None);
        await blob.UploadAsync(BinaryData.FromString("new"));

        // Assert
        Assert.True(await new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(name).ExistsAsync());
    }
}

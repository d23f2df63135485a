using Azure;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Files;

/// <summary>
/// Where the built-in <c>local</c> upstream keeps uploaded files: a blob container (<c>Gateway:Storage:FilesContainer</c>)
/// in the gateway's own storage account, reached the way its tables are (the same connection string, so Azurite's
/// blob service locally; <c>Gateway:Storage:BlobServiceUri</c> with the managed identity in Azure). One blob per file,
/// named by its id, its content type the file's (docs/files.md#local-files).
/// </summary>
public sealed class LocalFileStore
{
    private readonly StorageOptions _storage;
    private readonly IConfiguration? _configuration;
    private BlobContainerClient? _container;
    private Task? _creation;

    /// <summary>
    /// Holds no blob client yet, nor anything typed by the blob SDK (a <c>Lazy&lt;BlobContainerClient&gt;</c> would load
    /// it): a gateway whose upstreams hold no files in blobs never loads the blob service, and every gateway builds this
    /// store on its first call (docs/performance.md#cold-start).
    /// </summary>
    public LocalFileStore(IOptions<GatewayOptions> options, IConfiguration? configuration = null)
    {
        _storage = options.Value.Storage;
        _configuration = configuration;
    }

    private BlobContainerClient Container =>
        Volatile.Read(ref _container) ?? Interlocked.CompareExchange(ref _container, NewContainer(), null) ?? _container!;

    private BlobContainerClient NewContainer() => Service(_storage, _configuration).GetBlobContainerClient(_storage.FilesContainer);

    /// <summary>
    /// The blob service of the gateway's storage account: <c>BlobServiceUri</c>, else that of the connection string in
    /// force, else the table endpoint's account (<c>…table.core.windows.net</c> → <c>…blob.core.windows.net</c>), with
    /// the managed identity.
    /// </summary>
    private static BlobServiceClient Service(StorageOptions storage, IConfiguration? configuration)
    {
        if (storage.BlobServiceUri is { } uri)
        {
            return new BlobServiceClient(uri, new DefaultAzureCredential());
        }

        if (GatewayTables.ResolveConnectionString(storage, configuration ?? new ConfigurationBuilder().Build()) is { } connectionString)
        {
            return new BlobServiceClient(connectionString);
        }

        var blob = new UriBuilder(storage.TableServiceUri!);
        blob.Host = blob.Host.Replace(".table.", ".blob.", StringComparison.OrdinalIgnoreCase);
        return new BlobServiceClient(blob.Uri, new DefaultAzureCredential());
    }

    public async ValueTask<BlobClient> BlobAsync(string id, CancellationToken cancellationToken)
    {
        // One creation shared by every caller; a failed one is forgotten, so the next call tries again.
        var creation = Volatile.Read(ref _creation) ?? Interlocked.CompareExchange(ref _creation, CreateAsync(), null) ?? _creation!;
        try
        {
            await creation.WaitAsync(cancellationToken);
        }
        catch when (creation.IsFaulted)
        {
            _ = Interlocked.CompareExchange(ref _creation, null, creation);
            throw;
        }

        return Container.GetBlobClient(id);
    }

    private async Task CreateAsync()
    {
        try
        {
            await Container.CreateIfNotExistsAsync();
        }
        catch (RequestFailedException exception) when (exception.Status == 403)
        {
            // Allowed the container's blobs but not to create containers: Azure's template creates this container and
            // grants the app's identity a role on it alone (docs/deploy.md#role-assignments). The blob calls that
            // follow report a container that is not there after all.
        }
    }

    /// <summary>The file's content type and size, and its first <paramref name="maxBytes"/> bytes; null when there is no such file.</summary>
    public async Task<(string ContentType, long Size, byte[] Head)?> ReadHeadAsync(string id, int maxBytes, CancellationToken cancellationToken)
    {
        var blob = await BlobAsync(id, cancellationToken);
        try
        {
            var download = await blob.DownloadStreamingAsync(new BlobDownloadOptions { Range = new HttpRange(0, maxBytes) }, cancellationToken);
            using var content = download.Value;
            using var buffer = new MemoryStream();
            await content.Content.CopyToAsync(buffer, cancellationToken);
            var size = content.Details.ContentRange is { } range && range.LastIndexOf('/') is var slash and > 0 &&
                       long.TryParse(range[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture, out var total)
                ? total
                : buffer.Length;
            return (content.Details.ContentType ?? "application/octet-stream", size, buffer.ToArray());
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            return null;
        }
        catch (RequestFailedException exception) when (exception.Status == 416)
        {
            // An empty blob has no first byte to start a range at.
            var properties = await blob.GetPropertiesAsync(cancellationToken: cancellationToken);
            return (properties.Value.ContentType ?? "application/octet-stream", 0, []);
        }
    }
}

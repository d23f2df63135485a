namespace Qhaigc.Functions.Files;

/// <summary>
/// The Files API of one upstream account (docs/files.md): an upload streamed as it arrives, a download streamed back,
/// a deletion. Metadata and lists are not asked of the upstream: the gateway keeps each file's metadata with its owner
/// (<see cref="Ownership.IOwnedObjectStore"/>), so a list never shows another tenant's files.
/// </summary>
public interface IUpstreamFiles
{
    /// <summary>Sends the client's multipart body as it arrives; the answer holds the upstream's file object.</summary>
    Task<UpstreamFileAnswer> UploadAsync(FileUpload upload, FileCallHeaders headers, CancellationToken cancellationToken);

    /// <summary>The file's bytes, as a stream the caller copies to the client and then disposes with the answer.</summary>
    Task<UpstreamFileAnswer> DownloadAsync(string upstreamId, FileCallHeaders headers, CancellationToken cancellationToken);

    /// <summary>Deletes the file; the answer holds the upstream's deletion object.</summary>
    Task<UpstreamFileAnswer> DeleteAsync(string upstreamId, FileCallHeaders headers, CancellationToken cancellationToken);
}

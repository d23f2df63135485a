using System.Text.Json;
using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Files;

/// <summary>
/// The check every request that names an uploaded file passes before anything goes upstream (docs/files.md#references):
/// each <c>file_id</c> it names (<see cref="FileSources"/>) must be one of the key's own files, or the request is a
/// <c>404 not_found_error</c> exactly as for a file that does not exist; and all of them must live on one deployment,
/// the one the request is then sent to. Used by <c>/v1/messages</c> and <c>count_tokens</c> (through
/// <see cref="Api.CallPrologue"/>), and by the batch creator for each of a batch's requests.
/// </summary>
public sealed class FileReferences(IOwnedObjectStore objects)
{
    /// <summary>The most distinct files one request may name.</summary>
    public const int MaxFiles = 100;

    /// <summary>
    /// The deployment that holds every file <paramref name="request"/> (a Messages request body) names, or the error to
    /// answer; <see cref="FileReferenceCheck.None"/> when it names none, without a table read. With <paramref name="seen"/>
    /// (one per batch) a file is read from the table once, however many of the batch's requests name it.
    /// </summary>
    public async ValueTask<FileReferenceCheck> FindAsync(
        string keyId, JsonElement request, CancellationToken cancellationToken, Dictionary<string, OwnedObject?>? seen = null)
    {
        var named = FileSources.CollectAll(request);
        if (named.Count == 0)
        {
            return FileReferenceCheck.None;
        }

        var ids = new List<string>(named.Count);
        foreach (var element in named)
        {
            if (element.ValueKind != JsonValueKind.String || element.GetString() is not { } id || !OwnedObjectIds.IsValid(id))
            {
                return new FileReferenceCheck(null, NotFound(null));
            }

            if (!ids.Contains(id, StringComparer.Ordinal))
            {
                ids.Add(id);
            }
        }

        if (ids.Count > MaxFiles)
        {
            return new FileReferenceCheck(null, ApiError.InvalidRequest($"A request may name at most {MaxFiles} files."));
        }

        string? upstream = null;
        try
        {
            var found = await Task.WhenAll(ids.Select(id => seen?.GetValueOrDefault(id) is { } known
                ? Task.FromResult<OwnedObject?>(known)
                : objects.FindAsync(keyId, OwnedKinds.File, id, cancellationToken)));
            for (var i = 0; i < found.Length; i++)
            {
                if (seen is not null && found[i] is not null)
                {
                    seen[ids[i]] = found[i];
                }

                if (found[i] is not { } file)
                {
                    return new FileReferenceCheck(null, NotFound(ids[i]));
                }

                if (upstream is not null && !string.Equals(upstream, file.Upstream, StringComparison.Ordinal))
                {
                    return new FileReferenceCheck(null, ApiError.InvalidRequest(
                        "The files a request names must all be held by one upstream; this request names files uploaded to different ones."));
                }

                upstream = file.Upstream;
            }
        }
        catch (StorageUnavailableException)
        {
            return new FileReferenceCheck(null, ApiError.From(ApiErrorKind.StorageUnavailable, "Storage is temporarily unavailable; please retry."));
        }

        return new FileReferenceCheck(upstream, null);
    }

    /// <summary>
    /// The one answer for a file a key may not use: the same for an id that does not exist, another key's file and an id
    /// that cannot be one (only a well-formed id is repeated).
    /// </summary>
    public static ApiError NotFound(string? id) =>
        ApiError.From(ApiErrorKind.NotFound, id is not null && OwnedObjectIds.IsValid(id) ? $"File not found: {id}" : "File not found.");
}

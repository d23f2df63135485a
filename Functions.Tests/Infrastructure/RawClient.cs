using System.Net.Http.Headers;
using System.Text;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>Plain HTTP calls to the gateway, for what SDKs hide: exact bytes, headers and statuses.</summary>
public static class RawClient
{
    public static HttpClient Create(Uri baseAddress) => new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };

    public static HttpRequestMessage Messages(string? key, string body, string? version = "2023-06-01", string path = "v1/messages")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("x-api-key", key);
        }

        if (version is not null)
        {
            request.Headers.TryAddWithoutValidation("anthropic-version", version);
        }

        return request;
    }

    /// <summary>A <c>GET</c> with the key and <c>anthropic-version</c>, as an SDK sends for a list or a retrieve.</summary>
    public static HttpRequestMessage Get(string key, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("x-api-key", key);
        request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        return request;
    }

    /// <summary>A file upload as the SDKs send it: <c>multipart/form-data</c> with a <c>file</c> part and the Files beta.</summary>
    public static HttpRequestMessage UploadFile(string key, string name) => UploadFile(key, name, new ByteArrayContent(Encoding.UTF8.GetBytes("content of " + name)));

    /// <summary>An upload of <paramref name="file"/> as the file part (a <see cref="StreamContent"/> of unknown length makes the body chunked).</summary>
    public static HttpRequestMessage UploadFile(string key, string name, HttpContent file)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/files") { Content = new MultipartFormDataContent { { file, "file", name } } };
        return WithFilesHeaders(request, key);
    }

    /// <summary>A file's <c>DELETE</c> as the SDKs send it.</summary>
    public static HttpRequestMessage DeleteFile(string key, string id) => WithFilesHeaders(new HttpRequestMessage(HttpMethod.Delete, $"v1/files/{id}"), key);

    private static HttpRequestMessage WithFilesHeaders(HttpRequestMessage request, string key)
    {
        request.Headers.TryAddWithoutValidation("x-api-key", key);
        request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        request.Headers.TryAddWithoutValidation("anthropic-beta", "files-api-2025-04-14");
        return request;
    }

    public static string Body(string model, bool stream = false, int maxTokens = 256, string text = "Hello") =>
        $$"""{"model":"{{model}}","max_tokens":{{maxTokens}},"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"{{text}}"}]}""";

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.First()
        : response.Content.Headers.TryGetValues(name, out var contentValues) ? contentValues.First() : null;

    public static MediaTypeHeaderValue? ContentType(HttpResponseMessage response) => response.Content.Headers.ContentType;
}

using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Models.Messages;
using Anthropic.Models.Messages.Batches;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Batches;

/// <summary>Batch bodies, SDK requests and raw calls shared by the batch tests.</summary>
public static class BatchArrangement
{
    public static BatchCreateParams Create(string model, params string[] texts) => new()
    {
        Requests = [.. texts.Select((text, i) => new Request
        {
            CustomID = "req-" + i,
            Params = new Params { Model = model, MaxTokens = 64, Messages = [new UserMessageParam { Content = text }] },
        })],
    };

    /// <summary>A create body with one request per (custom_id, params JSON).</summary>
    public static string Body(params (string CustomId, string Params)[] requests) =>
        "{\"requests\":[" + string.Join(',', requests.Select(static r => $$"""{"custom_id":{{JsonSerializer.Serialize(r.CustomId)}},"params":{{r.Params}}}""")) + "]}";

    public static HttpRequestMessage Post(string? key, string body) => RawClient.Messages(key, body, path: "v1/messages/batches");

    public static HttpRequestMessage Call(HttpMethod method, string? key, string path)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("x-api-key", key);
        }

        request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        return request;
    }

    /// <summary>An answer's error as (status, type, message): what must be the same for a foreign id and a missing one.</summary>
    public static async Task<(HttpStatusCode Status, string Type, string Message, string Body)> ErrorOf(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(body);
        var error = document.RootElement.GetProperty("error");
        return (response.StatusCode, error.GetProperty("type").GetString()!, error.GetProperty("message").GetString()!, WithoutRequestId(body));
    }

    /// <summary>The error body without its <c>request_id</c> (which names each call).</summary>
    public static string WithoutRequestId(string body)
    {
        using var document = JsonDocument.Parse(body);
        return JsonSerializer.Serialize(document.RootElement.EnumerateObject().Where(static p => p.Name != "request_id")
            .ToDictionary(static p => p.Name, static p => p.Value));
    }

    /// <summary>Retrieves the batch until it has ended (the local upstream ends it after its delay).</summary>
    public static async Task<MessageBatch> WaitEndedAsync(AnthropicClient client, string id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var batch = await client.Messages.Batches.Retrieve(id);
            if (Status(batch) == "ended")
            {
                return batch;
            }

            Assert.True(DateTime.UtcNow < deadline, "The batch did not end within the test's patience.");
            await Task.Delay(200);
        }
    }

    public static string Status(MessageBatch batch) => batch.ProcessingStatus.Raw();

    public static string Text(string s) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(s));
}

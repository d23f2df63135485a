using System.IO.Pipelines;
using System.Text;
using Qhaigc.Functions.Batches;

namespace Qhaigc.Functions.Tests.Batches;

/// <summary>The batch body read one request at a time, however the bytes arrive.</summary>
public sealed class BatchBodyReaderTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task NextAsync_YieldsEachRequestAsSent_WhateverTheChunking(int chunk)
    {
        // Arrange
        var requests = new[] { """{"custom_id":"a","params":{"x":"é \" ]}"}}""", """{ "custom_id" : "b" , "params" : { "n" : [1, 2, {"y": null}] } }""" };
        var body = "{ \"requests\" : [ " + string.Join(" , ", requests) + " ] }\n";

        // Act
        var (read, end) = await ReadAllAsync(body, chunk);

        // Assert
        Assert.Equal(requests, read);
        Assert.Equal(BatchBodyItemKind.End, end.Kind);
    }

    [Fact]
    public async Task NextAsync_ReadsARequestLargerThanEveryChunk()
    {
        // Arrange
        var large = "{\"custom_id\":\"big\",\"params\":{\"text\":\"" + new string('x', 300_000) + "\"}}";

        // Act
        var (read, end) = await ReadAllAsync("{\"requests\":[" + large + "]}", 1000);

        // Assert
        Assert.Equal(large, Assert.Single(read));
        Assert.Equal(BatchBodyItemKind.End, end.Kind);
    }

    [Theory]
    [InlineData("""{"requests":[{"custom_id":"a","params":{}}]} trailing""", 400, "There was an error parsing the body")]
    [InlineData("""{"requests":[{"custom_id":"a","params":{}}""", 400, "There was an error parsing the body")]
    [InlineData("""{"requests":[1]}""", 400, "requests.0: Input should be a valid dictionary")]
    [InlineData("""{"requests":{}}""", 400, "requests: Input should be a valid list")]
    [InlineData("""{}""", 400, "requests: Field required")]
    [InlineData("""[]""", 400, "Input should be a valid dictionary")]
    [InlineData("""{"requests":[],"requests":[]}""", 400, "requests: List should have at least 1 item")]
    public async Task NextAsync_RefusesABodyThatIsNotABatch(string body, int status, string message)
    {
        // Act
        var (_, end) = await ReadAllAsync(body, 5);

        // Assert
        Assert.Equal(BatchBodyItemKind.Refused, end.Kind);
        Assert.Equal(status, end.Error!.Status);
        Assert.StartsWith(message, end.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NextAsync_Refuses413_ARequestOverTheRequestLimit()
    {
        // Arrange
        var body = "{\"requests\":[{\"custom_id\":\"big\",\"params\":{\"text\":\"" + new string('x', 5000) + "\"}}]}";

        // Act
        var (_, end) = await ReadAllAsync(body, 512, maxRequestBytes: 1024);

        // Assert
        Assert.Equal(413, end.Error!.Status);
        Assert.Equal("request_too_large", end.Error.Type);
        Assert.StartsWith("requests.0: a request in a batch is at most 1024 bytes", end.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NextAsync_Refuses413_ABodyOverTheBatchLimit()
    {
        // Arrange
        var one = """{"custom_id":"r","params":{"t":"0123456789"}}""";
        var body = "{\"requests\":[" + string.Join(',', Enumerable.Repeat(one, 100)) + "]}";

        // Act
        var (read, end) = await ReadAllAsync(body, 256, maxBodyBytes: 2000);

        // Assert
        Assert.True(read.Count < 100);
        Assert.Equal(413, end.Error!.Status);
        Assert.Equal("Request exceeds the maximum allowed number of bytes (2000).", end.Error.Message);
    }

    private static async Task<(List<string> Requests, BatchBodyItem End)> ReadAllAsync(
        string body, int chunk, long maxBodyBytes = BatchBodyReader.MaxBodyBytes, long maxRequestBytes = 32L * 1024 * 1024)
    {
        var pipe = new Pipe();
        var bytes = Encoding.UTF8.GetBytes(body);
        var writing = Task.Run(async () =>
        {
            for (var i = 0; i < bytes.Length; i += chunk)
            {
                await pipe.Writer.WriteAsync(bytes.AsMemory(i, Math.Min(chunk, bytes.Length - i)));
            }

            await pipe.Writer.CompleteAsync();
        });
        var reader = new BatchBodyReader(pipe.Reader, maxBodyBytes, maxRequestBytes, TimeSpan.FromSeconds(30));
        var requests = new List<string>();
        BatchBodyItem item;
        while ((item = await reader.NextAsync(CancellationToken.None)).Kind == BatchBodyItemKind.Request)
        {
            requests.Add(Encoding.UTF8.GetString(item.Bytes!));
        }

        await pipe.Reader.CompleteAsync();
        try
        {
            await writing;
        }
        catch (InvalidOperationException)
        {
            // The reader stopped early (a refusal): the writer may find the pipe completed.
        }

        return (requests, item);
    }
}

using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Qhaigc.Functions.Api;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Api;

/// <summary>
/// A whole upstream message written in the client's format (<see cref="MessageResult"/>), and its usage record written
/// after the answer (docs/wire-contract.md, docs/usage-records.md).
/// </summary>
public sealed class MessageResultTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly RecordingUsageSink _sink = new();
    private readonly DefaultHttpContext _context = new();
    private readonly MemoryStream _body = new();
    private readonly CallRecorder _call;

    public MessageResultTests()
    {
        _context.Response.Body = _body;
        var gateway = GatewayContext.Arrive(_context, _time);
        _call = new CallRecorder(_sink, gateway.RequestId, "key", "messages", _time.GetUtcNow(), Stopwatch.GetTimestamp());
    }

    [Fact]
    public async Task ExecuteAsync_WritesTheClaudeMessageWithTheClientsModel_AndRecordsItsUsage()
    {
        // Arrange
        var message = Fixtures.Bytes("Anthropic/text.json");

        // Act
        await new MessageResult(message, new ClaudeAnswerFormat("claude-sonnet-4-5"), _call, usageEstimated: false).ExecuteAsync(_context);

        // Assert
        var written = _body.ToArray();
        Assert.Equal((200, "application/json", (long?)written.Length), (_context.Response.StatusCode, _context.Response.ContentType, _context.Response.ContentLength));
        var root = JsonDocument.Parse(written).RootElement;
        Assert.Equal(("claude-sonnet-4-5", true), (root.GetProperty("model").GetString(), root.GetProperty("future_field").GetProperty("kept").GetBoolean()));
        var record = Assert.Single(_sink.Records);
        Assert.Equal((UsageState.Complete, 200, (string?)null, false), (record.State, record.Status, record.ErrorType, record.Estimated));
        Assert.Equal((25L, 15L, 100L, 2000L), (record.InputTokens, record.OutputTokens, record.CacheCreationInputTokens, record.CacheReadInputTokens));
        Assert.NotNull(record.TimeToFirstByteMs);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("claude-sonnet-4-5")]
    public async Task ExecuteAsync_RelaysTheMessageAsItCame_ButForTheModelName(string? modelToRestore)
    {
        // Arrange: text that a JSON writer would escape (non-ASCII).
        var message = Fixtures.Bytes("Anthropic/text.json");

        // Act
        await new MessageResult(message, new ClaudeAnswerFormat(modelToRestore), _call, usageEstimated: false).ExecuteAsync(_context);

        // Assert: byte for byte, the model name aside (docs/wire-contract.md, "Non-streaming response").
        var expected = Encoding.UTF8.GetString(message);
        if (modelToRestore is not null)
        {
            expected = expected.Replace("claude-sonnet-4-5-20250929", modelToRestore, StringComparison.Ordinal);
        }

        Assert.Equal(expected, Encoding.UTF8.GetString(_body.ToArray()));
    }

    [Fact]
    public async Task ExecuteAsync_WritesAChatCompletion_InTheChatFormat()
    {
        // Arrange
        var message = Fixtures.Bytes("Anthropic/text.json");

        // Act
        await new MessageResult(message, new ChatAnswerFormat("gpt-test", stream: false, includeUsage: false, _time), _call, usageEstimated: true)
            .ExecuteAsync(_context);

        // Assert
        var completion = JsonDocument.Parse(_body.ToArray()).RootElement;
        Assert.Equal(("chat.completion", "gpt-test"), (completion.GetProperty("object").GetString(), completion.GetProperty("model").GetString()));
        Assert.Equal("Hello, world — ünïcödé ✓", completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        var record = Assert.Single(_sink.Records);
        Assert.Equal((UsageState.Complete, 25L, true), (record.State, record.InputTokens, record.Estimated));
    }

    [Fact]
    public async Task ExecuteAsync_AnswersAnApiError_WhenTheBodyIsNotAMessageInTheChatFormat()
    {
        // Arrange: a JSON body that is not a Claude message cannot become a chat completion.
        var body = """{"unexpected":true}"""u8.ToArray();

        // Act
        await new MessageResult(body, new ChatAnswerFormat("gpt-test", stream: false, includeUsage: false, _time), _call, usageEstimated: false)
            .ExecuteAsync(_context);

        // Assert: an error in OpenAI's envelope, and a failed call.
        Assert.Equal(500, _context.Response.StatusCode);
        Assert.Equal(ErrorTypes.Api, JsonDocument.Parse(_body.ToArray()).RootElement.GetProperty("error").GetProperty("type").GetString());
        var record = Assert.Single(_sink.Records);
        Assert.Equal((UsageState.Failed, 500, ErrorTypes.Api), (record.State, record.Status, record.ErrorType));
    }

    [Fact]
    public async Task ExecuteAsync_RecordsACancelledCall_WithItsUsage_WhenTheClientLeft()
    {
        // Arrange
        using var aborted = new CancellationTokenSource();
        await aborted.CancelAsync();
        _context.RequestAborted = aborted.Token;

        // Act
        await new MessageResult(Fixtures.Bytes("Anthropic/text.json"), new ClaudeAnswerFormat(null), _call, usageEstimated: false).ExecuteAsync(_context);

        // Assert: the upstream's tokens are spent whether or not the client read them.
        var record = Assert.Single(_sink.Records);
        Assert.Equal((UsageState.Cancelled, 200, 25L, 15L), (record.State, record.Status, record.InputTokens, record.OutputTokens));
        Assert.Null(record.TimeToFirstByteMs);
    }
}

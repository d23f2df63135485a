using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>Keeps every log line (message, structured values and exception text) in memory.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public string Text
    {
        get
        {
            var builder = new StringBuilder();
            foreach (var line in _lines)
            {
                builder.AppendLine(line);
            }

            return builder.ToString();
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lines.Enqueue(Format(category, logLevel, eventId, state, exception, formatter));
        }
    }

    /// <summary>One log line: level, category, event id, message, every structured value, and the exception.</summary>
    public static string Format<TState>(
        string category, LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var builder = new StringBuilder().Append(logLevel).Append(' ').Append(category).Append('[').Append(eventId.Id).Append("] ")
            .Append(formatter(state, exception));
        if (state is IEnumerable<KeyValuePair<string, object?>> values)
        {
            foreach (var (key, value) in values)
            {
                builder.Append(" | ").Append(key).Append('=').Append(value);
            }
        }

        if (exception is not null)
        {
            builder.Append(" | ").Append(exception);
        }

        return builder.ToString();
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>
/// A logger provider every test gateway writes to: each line (message, structured values, exception) is checked at
/// once against <see cref="KnownSecrets"/>, so the whole test run's logs are covered without keeping them. A line with
/// a secret is kept (the secret masked) as a violation; <see cref="StandaloneGatewayHost"/> fails its test with it.
/// </summary>
public sealed class SecretScanningLoggerProvider : ILoggerProvider
{
    private static readonly ConcurrentQueue<string> RunViolations = new();
    private static long _linesScanned;

    private readonly ConcurrentQueue<string> _violations = new();

    /// <summary>Log lines checked in this test run, over every gateway.</summary>
    public static long LinesScanned => Interlocked.Read(ref _linesScanned);

    public IReadOnlyList<string> Violations => [.. _violations];

    /// <summary>Violations of every gateway in the test run so far.</summary>
    public static IReadOnlyList<string> AllViolations => [.. RunViolations];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _violations);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> violations) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = CapturingLoggerProvider.Format(category, logLevel, eventId, state, exception, formatter);
            Interlocked.Increment(ref _linesScanned);
            if (KnownSecrets.FindIn(line) is { } secret)
            {
                var masked = line.Replace(secret, secret[..Math.Min(6, secret.Length)] + "…(masked)", StringComparison.Ordinal);
                violations.Enqueue(masked);
                RunViolations.Enqueue(masked);
            }
        }
    }
}

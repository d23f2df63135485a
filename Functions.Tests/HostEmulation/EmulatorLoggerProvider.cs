using Microsoft.Extensions.Logging;

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>The emulated host's own warnings (YARP's forwarding errors, gRPC faults) go into the captured logs.</summary>
internal sealed class EmulatorLoggerProvider(EmulatorLog log) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, log);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, EmulatorLog log) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                log.Add($"host log {logLevel} {category}[{eventId.Id}] {formatter(state, exception)}{(exception is null ? string.Empty : " | " + exception)}");
            }
        }
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// Standalone-mode settlement of message batches: the same <see cref="BatchSettlement"/> as the Functions mode's timer
/// function, on the same schedule (<see cref="BatchSettlementOptions.SettleSchedule"/>). Not registered in the Functions
/// mode, where the platform's timer runs it. The settlement's services are resolved when the first run is due, not
/// while the server starts (docs/performance.md#cold-start).
/// </summary>
public sealed partial class BatchSettlementLoop(
    IServiceProvider services, IOptions<BatchSettlementOptions> options, TimeProvider time, ILogger<BatchSettlementLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var schedule = SettleSchedule.Parse(options.Value.SettleSchedule, out _)!;
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            if (schedule.Next(now) is not { } next)
            {
                return;
            }

            try
            {
                await Task.Delay(next - now, time, stoppingToken);
                await services.GetRequiredService<BatchSettlement>().RunAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                Log.RunFailed(logger, exception);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6405, Level = LogLevel.Warning, Message = "A message batch settlement run failed; the next runs on schedule")]
        public static partial void RunFailed(ILogger logger, Exception exception);
    }
}

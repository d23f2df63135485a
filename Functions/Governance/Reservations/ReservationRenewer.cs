using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Storage;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// The lease timer: every third of the lease, pushes out the holds of calls still running on this instance, so only a
/// dead instance's holds ever expire (and are swept by the next admission they stand in the way of).
/// </summary>
public sealed partial class ReservationRenewer(
    ILimitLedger ledger, ReservationRegistry reservations, TimeProvider time, IOptions<GatewayOptions> options, ILogger<ReservationRenewer> logger)
    : IDisposable
{
    private readonly LimitsOptions _options = options.Value.Limits;
    private readonly CancellationTokenSource _stopping = new();
    private ITimer? _timer;
    private int _renewing;

    public void Start()
    {
        var period = _options.LeaseDuration / 3;
        _timer = time.CreateTimer(static state => ((ReservationRenewer)state!).RenewAll(), this, period, period);
    }

    /// <summary>No renewal starts any more, and one that is running is cancelled.</summary>
    public async Task StopAsync()
    {
        if (_timer is not null)
        {
            await _timer.DisposeAsync();
        }

        await _stopping.CancelAsync();
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _stopping.Dispose();
    }

    private void RenewAll()
    {
        if (reservations.IsEmpty || Interlocked.Exchange(ref _renewing, 1) == 1)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                var now = time.GetUtcNow();
                var due = now - (_options.LeaseDuration / 3);
                foreach (var reservation in reservations.Active)
                {
                    if (!reservation.Reserved.HasHold || reservation.RenewedAt > due)
                    {
                        continue;
                    }

                    try
                    {
                        if (await ledger.RenewAsync(reservation.Reserved, now + _options.LeaseDuration, _stopping.Token))
                        {
                            reservation.RenewedAt = now;
                        }
                    }
                    catch (Exception exception) when (exception is StorageUnavailableException or OperationCanceledException)
                    {
                        Log.RenewalFailed(logger, reservation.Reserved.RequestId, exception);
                    }
                }
            }
            finally
            {
                Volatile.Write(ref _renewing, 0);
            }
        });
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6106, Level = LogLevel.Warning, Message = "Renewing the hold of call {RequestId} failed")]
        public static partial void RenewalFailed(ILogger logger, string requestId, Exception exception);
    }
}

using Microsoft.Extensions.Hosting;

namespace Qhaigc.Functions.Governance;

/// <summary>
/// Governance's part of the host's start and stop: the lease timer runs while the host does; after the web server has
/// drained, the last settlements get their chance to finish.
/// </summary>
public sealed class GovernanceLifecycle(ReservationRenewer renewer, SettlementService settlements) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        renewer.Start();
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        await renewer.StopAsync();
        await settlements.DrainAsync(cancellationToken);
    }
}

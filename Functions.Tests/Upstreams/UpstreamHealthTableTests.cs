using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Tests.Upstreams;

public sealed class UpstreamHealthTableTests
{
    [Fact]
    public void TryAcquire_KeepsARealModelApart_AfterAFloodOfMadeUpModelNames()
    {
        // Arrange: a tenant fills the deployment's model table with names the upstream refuses as unknown (a client
        // error: the upstream works); breakers open on one failure.
        var options = Options.Create(new GatewayOptions
        {
            Resilience = new ResilienceOptions { BreakerFailureThreshold = 1, BreakerDuration = TimeSpan.FromMinutes(1) },
        });
        var health = new UpstreamHealth(options, new FakeTimeProvider(DateTimeOffset.UtcNow), NullLogger<UpstreamHealth>.Instance);
        for (var i = 0; i < DeploymentHealth.MaxModels + 10; i++)
        {
            Assert.True(health.TryAcquire("anthropic", "claude-made-up-" + i, out var flood, out _));
            flood!.Succeeded(answered: false);
        }

        // Act: a real model that comes in after the flood is overloaded once.
        Assert.True(health.TryAcquire("anthropic", "claude-busy", out var busy, out _));
        busy!.Failed(UpstreamFault.Model, "529 overloaded_error");
        var otherAvailable = health.TryAcquire("anthropic", "claude-quiet", out var quiet, out _);

        // Assert: only the busy model rests; another model first seen now is not dragged down with it.
        Assert.True(otherAvailable);
        quiet!.Succeeded();
        Assert.False(health.TryAcquire("anthropic", "claude-busy", out _, out _));
    }
}

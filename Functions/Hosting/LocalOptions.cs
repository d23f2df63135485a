namespace Qhaigc.Functions.Hosting;

/// <summary>The <c>Gateway:Local</c> section: how the built-in <c>local</c> upstream behaves (docs/batches.md#local-batches).</summary>
public sealed class LocalOptions
{
    /// <summary>How long a message batch on the <c>local</c> upstream stays <c>in_progress</c> before it ends.</summary>
    public TimeSpan BatchDelay { get; set; } = TimeSpan.FromSeconds(3);
}

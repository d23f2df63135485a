using Qhaigc.Functions.Tests.HostEmulation;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>Starts the gateway in a hosting mode with the given settings (configuration keys, <c>:</c>-separated).</summary>
public static class GatewayHosts
{
    public const string Standalone = "standalone";
    public const string Functions = "functions";

    /// <summary>The modes every end-to-end theory runs in.</summary>
    public static TheoryData<string> Modes => new(AvailableModes);

    public static IReadOnlyList<string> AvailableModes { get; } = [Standalone, Functions];

    public static async Task<IGatewayHost> StartAsync(string mode, IReadOnlyDictionary<string, string?> settings) => mode switch
    {
        Standalone => await StandaloneGatewayHost.StartAsync(settings),
        Functions => await FunctionsGatewayHost.StartAsync(settings),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown hosting mode."),
    };
}

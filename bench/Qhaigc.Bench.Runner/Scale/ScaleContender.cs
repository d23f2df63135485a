namespace Qhaigc.Bench.Runner.Scale;

/// <summary>What a scale run measures: the bare proxy, the gateway with Azurite, the gateway with a store that costs nothing.</summary>
public enum ScaleContender
{
    Proxy,
    Gateway,
    GatewayMemoryStore,
}

namespace Qhaigc.Bench.Runner;

/// <summary>Where a scenario sends its requests: straight to the fake upstream, or through the gateway.</summary>
public sealed record Target(string Name, Uri BaseUrl, IReadOnlyList<string> Headers)
{
    public Uri Url(string path) => new(BaseUrl, path);

    public bool IsGateway => Name == "gateway";
}

using System.Net;

namespace Qhaigc.Bench.Bare;

/// <summary>
/// The upstream connection handler of the bare contenders (the bare proxy, the bare Functions worker), set up as the
/// gateway sets up its own: no proxy, redirects, decompression, cookies or trace headers.
/// </summary>
internal static class BareUpstreamHandler
{
    public static SocketsHttpHandler Create() => new()
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ActivityHeadersPropagator = null,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };
}

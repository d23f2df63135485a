using System.Net.Sockets;

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>
/// Retries a forwarded request whose connection to the worker was refused, as the host's own RetryProxyHandler does
/// (10 attempts): nothing of the request has been sent then, so retrying is safe.
/// </summary>
internal sealed class RetryProxyHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public const int MaxAttempts = 10;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await base.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException exception) when (attempt < MaxAttempts && exception.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt), cancellationToken);
            }
        }
    }
}

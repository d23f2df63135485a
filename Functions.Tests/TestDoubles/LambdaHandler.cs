namespace Qhaigc.Functions.Tests.TestDoubles;

/// <summary>
/// An upstream in a lambda: the handler under an <see cref="HttpClient"/> answers every request with what the test
/// says, without a socket (as YARP's forwarder tests fake their destinations).
/// </summary>
public sealed class LambdaHandler(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> send) : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        send(request, cancellationToken);
}

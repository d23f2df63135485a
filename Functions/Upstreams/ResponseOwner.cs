namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// What a body relayed after its exchange returned releases when it is done: the upstream response (its connection) and
/// the exchange's timeout token. Shared by streamed answers, batch results and file downloads.
/// </summary>
internal sealed class ResponseOwner(HttpResponseMessage response, CancellationTokenSource timeout) : IDisposable
{
    public void Dispose()
    {
        response.Dispose();
        timeout.Dispose();
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Qhaigc.Bench.ColdStart;

/// <summary>
/// The two moments every cold-start run times a launch to (bench/README.md#serverless-scale): the server's port accepting
/// a connection ("listening", polled every millisecond), and the first <c>POST /v1/messages</c> answered 200 (asked again
/// at once while the answer is not 200: the development key is created just after the gateway starts).
/// </summary>
public static class ColdStartProbe
{
    /// <summary>The first call of every launch: the smallest non-streaming request.</summary>
    private static readonly byte[] Body = Encoding.UTF8.GetBytes(
        """{"model":"bench","max_tokens":16,"messages":[{"role":"user","content":"ready?"}]}""");

    /// <summary>Returns once <paramref name="port"/> accepts a connection; throws if <paramref name="exited"/> or the deadline passes.</summary>
    public static async Task WaitListeningAsync(int port, Func<bool> exited, string name, Stopwatch clock, TimeSpan deadline)
    {
        while (true)
        {
            if (exited() || clock.Elapsed > deadline)
            {
                throw new InvalidOperationException($"The {name} did not listen within {deadline.TotalSeconds} s; see its log.");
            }

            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(1);
            }
        }
    }

    /// <summary>Posts to <paramref name="url"/> (a new client, so a new connection) until the answer is 200.</summary>
    public static async Task WaitFirstAnswerAsync(Uri url, string key, string name, Stopwatch clock, TimeSpan deadline)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(Body) };
            request.Content.Headers.ContentType = new("application/json");
            request.Headers.TryAddWithoutValidation("x-api-key", key);
            request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
            using var response = await http.SendAsync(request);
            await response.Content.ReadAsByteArrayAsync();
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            if (clock.Elapsed > deadline)
            {
                throw new InvalidOperationException($"The {name} did not answer 200 within {deadline.TotalSeconds} s (last {(int)response.StatusCode}).");
            }
        }
    }
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Qhaigc.Functions.Tests.Infrastructure;

public static class FreePort
{
    /// <summary>The lowest port chosen; below it lie the well-known and the commonly configured ones.</summary>
    private const int Lowest = 20000;

    private static readonly HashSet<int> Chosen = [];

    private static readonly int EphemeralLow = ReadEphemeralLow();

    /// <summary>
    /// A loopback TCP port that was free a moment ago, from below the kernel's ephemeral range and never the same twice
    /// in a run. A port the kernel hands out itself (a listener on port 0, the source port of an outgoing connection,
    /// the Functions worker's own server) could be taken again between this choice and the server's bind; one from
    /// below that range is handed out only here.
    /// </summary>
    public static int Next()
    {
        lock (Chosen)
        {
            for (var attempt = 0; attempt < 100 && EphemeralLow - Lowest > 1000; attempt++)
            {
                var port = Random.Shared.Next(Lowest, EphemeralLow);
                if (!Chosen.Add(port))
                {
                    continue;
                }

                try
                {
                    using var probe = new TcpListener(IPAddress.Loopback, port);
                    probe.Start();
                    return port;
                }
                catch (SocketException)
                {
                    // Taken by something else on the machine: another one.
                }
            }
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task WaitUntilListeningAsync(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>The first port of the kernel's ephemeral range (Linux's default when it cannot be read).</summary>
    private static int ReadEphemeralLow()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return int.Parse(range[0], CultureInfo.InvariantCulture);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 32768;
        }
    }
}

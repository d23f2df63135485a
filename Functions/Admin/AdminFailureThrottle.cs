using System.Net;
using Microsoft.AspNetCore.Http;

namespace Qhaigc.Functions.Admin;

/// <summary>
/// Slows guessing of the admin key (docs/admin-api.md#methods-and-failed-attempts): each client gets <see cref="MaxFailures"/>
/// failed attempts in a <see cref="Window"/>; after that every admin call from it is answered <c>429</c> with
/// <c>retry-after</c> until its window ends, before its key is even looked at. A success clears the client's count.
/// </summary>
/// <remarks>
/// Memory is bounded: at most <see cref="MaxClients"/> clients are tracked; when the table is full, windows that ended
/// are dropped, and a client still without room shares one overflow entry with every other such client (a flood from
/// many addresses slows itself, never the clients already tracked). Per instance: a scaled-out gateway multiplies the
/// allowance by its instance count, which a key of 32 characters or more leaves far beyond reach.
/// </remarks>
public sealed class AdminFailureThrottle(TimeProvider time)
{
    public const int MaxFailures = 10;

    public const int MaxClients = 10_000;

    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    private const string Overflow = "*";

    private readonly Dictionary<string, Entry> _clients = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>How long the client must wait before its next attempt; null when it may try now.</summary>
    public TimeSpan? Blocked(string client)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            // Only the client's own failures block it. Failures beyond MaxClients are counted together (and logged), but
            // never block a client that has none of its own: otherwise whoever holds more than MaxClients addresses could
            // lock the operator out. The admin key is strong (docs/deploy.md#the-admin-key), so guessing stays hopeless.
            if (!_clients.TryGetValue(client, out var entry))
            {
                return null;
            }

            var ends = entry.WindowStart + Window;
            return entry.Failures >= MaxFailures && ends > now ? ends - now : null;
        }
    }

    /// <summary>Counts a failed attempt; the number of failures the client now has in its window.</summary>
    public int Failed(string client)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (!_clients.TryGetValue(client, out var entry))
            {
                if (_clients.Count >= MaxClients)
                {
                    foreach (var (name, old) in _clients)
                    {
                        if (old.WindowStart + Window <= now)
                        {
                            _clients.Remove(name);
                        }
                    }
                }

                if (_clients.Count >= MaxClients)
                {
                    client = Overflow;
                    _clients.TryGetValue(client, out entry);
                }
            }

            if (entry is null || entry.WindowStart + Window <= now)
            {
                entry = new Entry { WindowStart = now };
                _clients[client] = entry;
            }

            return ++entry.Failures;
        }
    }

    /// <summary>A client that presented the admin key starts afresh.</summary>
    public void Succeeded(string client)
    {
        lock (_lock)
        {
            _clients.Remove(client);
        }
    }

    /// <summary>
    /// The client's address. Behind the Functions host the connection comes from the host on a loopback address, and
    /// the platform's front end appends the caller's address to <c>X-Forwarded-For</c>: then the last entry, the one the
    /// nearest proxy wrote, is the client (earlier entries are whatever the caller sent).
    /// </summary>
    public static string ClientOf(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        if ((remote is null || IPAddress.IsLoopback(remote)) &&
            context.Request.Headers["X-Forwarded-For"].ToString() is { Length: > 0 } forwarded)
        {
            var last = forwarded[(forwarded.LastIndexOf(',') + 1)..].Trim();
            if (IPEndPoint.TryParse(last, out var endpoint))
            {
                return endpoint.Address.ToString();
            }
        }

        return remote?.ToString() ?? "unknown";
    }

    private sealed class Entry
    {
        public DateTimeOffset WindowStart { get; init; }

        public int Failures { get; set; }
    }
}

using System.Collections.Concurrent;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>
/// Every secret and prompt marker the test run hands to a gateway: client keys as they are created, upstream and
/// admin keys from the settings a gateway starts with, prompt canaries. <see cref="SecretScanningLoggerProvider"/>
/// checks every log line of every gateway in the run against them (docs/faults.md: no key or prompt text in logs).
/// </summary>
public static class KnownSecrets
{
    /// <summary>Secrets starting with <c>sk-</c> are looked up by this many characters from each <c>sk-</c> in a line.</summary>
    private const int PrefixLength = 16;

    private static readonly ConcurrentDictionary<string, ConcurrentBag<string>> KeysByPrefix = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, byte> Others = new(StringComparer.Ordinal);

    public static void Register(string? secret)
    {
        if (string.IsNullOrWhiteSpace(secret) || secret.Length < 8)
        {
            return;
        }

        if (secret.StartsWith("sk-", StringComparison.Ordinal) && secret.Length >= PrefixLength)
        {
            var bag = KeysByPrefix.GetOrAdd(secret[..PrefixLength], static _ => []);
            if (!bag.Contains(secret))
            {
                bag.Add(secret);
            }
        }
        else
        {
            Others.TryAdd(secret, 0);
        }
    }

    /// <summary>Registers the secret settings of a gateway: anything named <c>…ApiKey</c>, <c>AdminKey</c> or <c>DevKey</c>.</summary>
    public static void RegisterSettings(IReadOnlyDictionary<string, string?> settings)
    {
        foreach (var (name, value) in settings)
        {
            if (name.EndsWith("ApiKey", StringComparison.OrdinalIgnoreCase) || name.EndsWith("AdminKey", StringComparison.OrdinalIgnoreCase) ||
                name.EndsWith("DevKey", StringComparison.OrdinalIgnoreCase))
            {
                Register(value);
            }
        }
    }

    /// <summary>The first known secret in a line, or null.</summary>
    public static string? FindIn(string line)
    {
        for (var at = line.IndexOf("sk-", StringComparison.Ordinal); at >= 0 && at + PrefixLength <= line.Length;
             at = line.IndexOf("sk-", at + 3, StringComparison.Ordinal))
        {
            if (KeysByPrefix.TryGetValue(line.Substring(at, PrefixLength), out var candidates))
            {
                foreach (var secret in candidates)
                {
                    if (string.CompareOrdinal(line, at, secret, 0, secret.Length) == 0)
                    {
                        return secret;
                    }
                }
            }
        }

        foreach (var secret in Others.Keys)
        {
            if (line.Contains(secret, StringComparison.Ordinal))
            {
                return secret;
            }
        }

        return null;
    }
}

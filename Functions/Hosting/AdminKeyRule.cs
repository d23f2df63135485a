namespace Qhaigc.Functions.Hosting;

/// <summary>
/// What an admin key must be before the gateway starts against real storage (docs/deploy.md#the-admin-key): at least
/// <see cref="MinLength"/> characters, not repetitive, and none of the values this repository ships as examples. Local
/// development storage (<c>UseDevelopmentStorage=true</c> or a loopback Azurite) takes any key, so the sample settings
/// work on a fresh machine.
/// </summary>
public static class AdminKeyRule
{
    public const int MinLength = 32;

    /// <summary>Fewest different characters: a long run of one character is no secret.</summary>
    public const int MinDistinctCharacters = 8;

    /// <summary>Every secret-looking value in <c>local.settings.sample.json</c> and the docs: known to anyone who read them.</summary>
    public static readonly IReadOnlyList<string> Shipped =
    [
        "dev-admin-key-change-me",
        "sk-qh-local-dev-key-do-not-use-in-production-0001",
    ];

    /// <summary>Null when <paramref name="adminKey"/> may be used; otherwise the start-up failure to report (which never quotes the key).</summary>
    public static string? Check(string? adminKey, string? devKey, bool developmentStorage)
    {
        // No key: the admin API is off. A Key Vault reference the platform did not resolve turns it off too (logged).
        if (developmentStorage || string.IsNullOrEmpty(adminKey) || adminKey.StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        const string Prefix = "Gateway:AdminKey is not fit for real storage: ";
        const string Advice = " Generate one, for example with `openssl rand -base64 48 | tr -d '\\n/+='`, and keep it in Key Vault (docs/deploy.md#the-admin-key).";
        if (Shipped.Contains(adminKey.Trim(), StringComparer.Ordinal) || string.Equals(adminKey, devKey, StringComparison.Ordinal))
        {
            return Prefix + "it is an example value published with the gateway." + Advice;
        }

        if (adminKey.Length < MinLength || adminKey.Distinct().Count() < MinDistinctCharacters)
        {
            return Prefix + $"it must have at least {MinLength} characters, at least {MinDistinctCharacters} of them different." + Advice;
        }

        return null;
    }
}

using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace Qhaigc.Functions.WebConsole;

/// <summary>
/// The console's files (docs/console.md), embedded in the assembly from <c>Functions/Console/wwwroot</c> and read once:
/// each under its path below <c>wwwroot</c> (<c>index.html</c>, <c>app.js</c>, <c>assets/logo.svg</c>). A request is
/// answered only with a file of this fixed set, looked up by its exact path, so no path a client makes up (<c>..</c>,
/// encoded or not) reaches anything else.
/// </summary>
public sealed class ConsoleAssets
{
    public const string IndexPath = "index.html";

    private const string ResourcePrefix = "console/";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".mjs"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".json"] = "application/json; charset=utf-8",
        [".map"] = "application/json; charset=utf-8",
        [".txt"] = "text/plain; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".ico"] = "image/x-icon",
        [".webp"] = "image/webp",
        [".woff"] = "font/woff",
        [".woff2"] = "font/woff2",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private readonly FrozenDictionary<string, ConsoleAsset> _assets;

    public ConsoleAssets()
        : this(typeof(ConsoleAssets).Assembly)
    {
    }

    public ConsoleAssets(Assembly assembly)
    {
        var assets = new Dictionary<string, ConsoleAsset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            // MSBuild writes the folder part with the build machine's separator.
            var path = name.Replace('\\', '/');
            if (!path.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            path = path[ResourcePrefix.Length..];
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var content = copy.ToArray();
            assets[path] = new ConsoleAsset(
                path,
                content,
                ContentTypes.GetValueOrDefault(System.IO.Path.GetExtension(path), "application/octet-stream"),
                new EntityTagHeaderValue("\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 16)) + "\""),
                // Revalidated on every use (a 304 when unchanged): the files keep their names across versions, so a
                // cached app.js must never outlive the index.html it belongs to.
                "no-cache");
        }

        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Every file's path below <c>wwwroot</c>.</summary>
    public IEnumerable<string> Paths => _assets.Keys;

    /// <summary>The file at <paramref name="path"/> (below <c>/console/</c>; empty for <c>index.html</c>), or null.</summary>
    public ConsoleAsset? Find(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "/")
        {
            path = IndexPath;
        }

        return _assets.GetValueOrDefault(path);
    }
}

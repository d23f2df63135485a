using Microsoft.Net.Http.Headers;

namespace Qhaigc.Functions.WebConsole;

/// <summary>One file of the console's browser app, as the gateway serves it: its bytes, type, entity tag and caching.</summary>
public sealed record ConsoleAsset(string Path, byte[] Content, string ContentType, EntityTagHeaderValue ETag, string CacheControl);

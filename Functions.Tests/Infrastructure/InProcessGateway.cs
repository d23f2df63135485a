using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Tests.TestDoubles;
using Qhaigc.Functions.Upstreams;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Infrastructure;

/// <summary>
/// The gateway's real service graph (<c>AddGateway</c>) with its storage swapped for in-memory stores and its usage
/// sink for a recording one, so a handler can be called directly with a <see cref="DefaultHttpContext"/>: no server, no
/// Azurite, no fake upstream process. With <c>upstream</c> given, an Anthropic upstream named <c>anthropic</c> serving
/// every model sends through that handler; without, the built-in <c>local</c> upstream answers.
/// </summary>
public sealed class InProcessGateway : IAsyncDisposable
{
    private ServiceProvider _services = null!;

    public InMemoryApiKeyStore Keys { get; } = new();

    public InMemoryLimitLedger Ledger { get; } = new();

    public RecordingUsageSink Usage { get; } = new();

    public static InProcessGateway Create(HttpMessageHandler? upstream = null, Action<Dictionary<string, string?>>? configure = null)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (upstream is not null)
        {
            settings["Gateway:Upstreams:anthropic:Kind"] = "anthropic";
            settings["Gateway:Upstreams:anthropic:BaseUrl"] = "http://upstream.invalid/";
            settings["Gateway:Upstreams:anthropic:ApiKey"] = "sk-ant-in-process-upstream";
        }

        configure?.Invoke(settings);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        // As both hosts register it: the objects table's client (behind the file reference check) is built from it.
        services.AddSingleton<IConfiguration>(configuration);
        services.AddGateway(configuration);
        var gateway = new InProcessGateway();
        services.Replace(ServiceDescriptor.Singleton<IApiKeyStore>(gateway.Keys));
        services.Replace(ServiceDescriptor.Singleton<ILimitLedger>(gateway.Ledger));
        services.Replace(ServiceDescriptor.Singleton<IUsageSink>(gateway.Usage));
        if (upstream is not null)
        {
            services.AddHttpClient(UpstreamRouter.HttpClientName("anthropic")).ConfigurePrimaryHttpMessageHandler(() => upstream);
        }

        gateway._services = services.BuildServiceProvider();
        return gateway;
    }

    public T Get<T>()
        where T : notnull => _services.GetRequiredService<T>();

    /// <summary>A key in the in-memory store, as the admin API would create it.</summary>
    public async Task<(string Secret, ApiKey Key)> CreateKeyAsync(IReadOnlyList<string>? models = null)
    {
        var secret = ApiKeyHasher.NewSecret();
        var hash = ApiKeyHasher.Hash(secret);
        var key = new ApiKey
        {
            Id = ApiKeyHasher.IdFromHash(hash),
            Name = "in-process",
            Hash = hash,
            Hint = ApiKeyHasher.Hint(secret),
            CreatedAt = DateTimeOffset.UtcNow,
            Models = models ?? [],
        };
        Assert.True(await Keys.CreateAsync(key, CancellationToken.None));
        return (secret, key);
    }

    /// <summary>A POST as a client sends it, answered by <paramref name="handle"/> and written into a buffer.</summary>
    public async Task<Answer> PostAsync(string path, string body, Func<HttpContext, Task<IResult>> handle, string? secret, string? version = "2023-06-01")
    {
        var context = new DefaultHttpContext { RequestServices = _services };
        context.Request.Method = HttpMethods.Post;
        context.Request.Path = path;
        context.Request.ContentType = "application/json";
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Request.Body = new MemoryStream(bytes);
        context.Request.ContentLength = bytes.Length;
        if (secret is not null)
        {
            context.Request.Headers["x-api-key"] = secret;
        }

        if (version is not null)
        {
            context.Request.Headers["anthropic-version"] = version;
        }

        var output = new MemoryStream();
        context.Response.Body = output;
        var result = await handle(context);
        await result.ExecuteAsync(context);
        await context.Response.CompleteAsync();
        return new Answer(context.Response.StatusCode, context.Response.Headers, Encoding.UTF8.GetString(output.ToArray()), result);
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    /// <summary>What the client got.</summary>
    public sealed record Answer(int Status, IHeaderDictionary Headers, string Body, IResult Result);
}

using System.Text.Json;
using Azure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Admin;
using Qhaigc.Functions.Admin.Keys;
using Qhaigc.Functions.Admin.Statements;
using Qhaigc.Functions.Admin.Usage;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Admin;

/// <summary>The one admin step every <c>/manage</c> resource runs through, in process (no host, no storage reached).</summary>
public sealed class AdminAuthorizationTests
{
    private const string AdminKey = "admin-key-for-tests";
    private const string KeyId = "key_00000000000000aa";

    public static TheoryData<string, string, string> UnservedMethods => new()
    {
        { "keys", "PUT", "GET, POST" },
        { "keys", "DELETE", "GET, POST" },
        { "key", "POST", "GET, PATCH, DELETE" },
        { "key", "PUT", "GET, PATCH, DELETE" },
        { "rotate", "GET", "POST" },
        { "statement", "DELETE", "GET" },
        { "usage", "POST", "GET" },
    };

    [Theory]
    [MemberData(nameof(UnservedMethods))]
    public async Task Endpoints_Answer405WithAllow_WhenTheRouteDoesNotServeTheMethod(string route, string method, string allow)
    {
        // Arrange
        using var services = Services(AdminKey);
        var context = Context(services, method, AdminKey);

        // Act
        var answer = await ExecuteAsync(context, await Handle(services, route, context));

        // Assert: a Claude-shaped error, never the route's other methods (a PUT on a key used to delete it).
        Assert.Equal(StatusCodes.Status405MethodNotAllowed, answer.Status);
        Assert.Equal(allow, context.Response.Headers.Allow.ToString());
        Assert.Equal("error", answer.Body.RootElement.GetProperty("type").GetString());
        Assert.Equal("invalid_request_error", answer.Body.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains(method, answer.Body.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(AdminKey, null, 401)]
    [InlineData(AdminKey, "wrong", 401)]
    [InlineData(null, AdminKey, 404)]
    public async Task RunAsync_ChecksTheCallerBeforeTheMethod(string? configured, string? presented, int status)
    {
        // Arrange: without an admin key configured the API does not exist, whatever the method.
        using var services = Services(configured);
        var context = Context(services, "PUT", presented);
        var admin = services.GetRequiredService<AdminAuthorization>();

        // Act
        var answer = await ExecuteAsync(context, await admin.RunAsync(context, "GET", static _ => null));

        // Assert
        Assert.Equal(status, answer.Status);
        Assert.False(context.Response.Headers.ContainsKey("Allow"));
    }

    [Fact]
    public async Task RunAsync_Answers404AndLogsOnce_WhenTheAdminKeyIsAnUnresolvedKeyVaultReference()
    {
        // Arrange
        const string unresolved = "@Microsoft.KeyVault(VaultName=kv;SecretName=gateway-admin-key)";
        using var logs = new CapturingLoggerProvider();
        var admin = new AdminAuthorization(TimeProvider.System, Options.Create(new GatewayOptions { AdminKey = unresolved }),
            new AdminFailureThrottle(TimeProvider.System), new LoggerFactory([logs]).CreateLogger<AdminAuthorization>());
        var context = Context(null, "GET", unresolved);

        // Act
        var answer = await ExecuteAsync(context, await admin.RunAsync(context, "GET", static _ => Task.FromResult(Results.Ok())));

        // Assert
        Assert.Equal(StatusCodes.Status404NotFound, answer.Status);
        Assert.Contains("[5005] Gateway:AdminKey holds an unresolved Key Vault reference", logs.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RunAsync_AnswersOverloaded_WhenStorageCannotBeReached(bool mapped)
    {
        // Arrange: the store's own mapping, or a table error no store mapped.
        var admin = new AdminAuthorization(TimeProvider.System, Options.Create(new GatewayOptions { AdminKey = AdminKey }),
            new AdminFailureThrottle(TimeProvider.System), NullLogger<AdminAuthorization>.Instance);
        var context = Context(null, "GET", AdminKey);
        Exception failure = mapped ? new StorageUnavailableException("down") : new RequestFailedException(503, "Server busy");

        // Act
        var answer = await ExecuteAsync(context, await admin.RunAsync(context, "GET", _ => Task.FromException<IResult>(failure)));

        // Assert
        Assert.Equal(529, answer.Status);
        Assert.Equal("overloaded_error", answer.Body.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal("true", context.Response.Headers["x-should-retry"].ToString());
    }

    [Fact]
    public void DeriveKey_IsTheSameOnEveryInstance_AndDiffersPerPurposeAndAdminKey()
    {
        // Arrange
        AdminAuthorization Instance(string key) =>
            new(TimeProvider.System, Options.Create(new GatewayOptions { AdminKey = key }), new AdminFailureThrottle(TimeProvider.System),
                NullLogger<AdminAuthorization>.Instance);

        // Act
        var first = Instance(AdminKey).DeriveKey("usage cursor");
        var second = Instance(AdminKey).DeriveKey("usage cursor");
        var otherPurpose = Instance(AdminKey).DeriveKey("something else");
        var otherAdminKey = Instance(AdminKey + "2").DeriveKey("usage cursor");

        // Assert
        Assert.Equal(first, second);
        Assert.NotEqual(first, otherPurpose);
        Assert.NotEqual(first, otherAdminKey);
    }

    [Theory]
    [InlineData("POST", """{"name":"k","limits":{"spendCap":5}}""")]
    [InlineData("PATCH", """{"limits":{"spendCap":5,"spendPeriod":"lifetime"}}""")]
    public async Task KeysEndpoint_RefusesASpendCap_WhenNoPriceCouldEverApply(string method, string body)
    {
        // Arrange: a gateway with no price at all; a cap there would never count a call.
        using var services = Services(AdminKey, static s => s.AddSingleton(PriceTable.Empty));
        var context = Context(services, method, AdminKey);
        context.Request.Body = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(body));
        var keys = services.GetRequiredService<KeysEndpoint>();

        // Act
        var answer = await ExecuteAsync(context, await (method == "POST" ? keys.HandleKeysAsync(context) : keys.HandleKeyAsync(context, KeyId)));

        // Assert: refused before the store is reached (these tests reach none).
        Assert.Equal(StatusCodes.Status400BadRequest, answer.Status);
        Assert.StartsWith("limits.spendCap: this gateway has no prices", answer.Body.RootElement.GetProperty("error").GetProperty("message").GetString(),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_LogsAFailedAttemptAsAWarning_WithoutThePresentedKey()
    {
        // Arrange
        const string presented = "sk-qh-almost-the-admin-key";
        using var logs = new CapturingLoggerProvider();
        var admin = new AdminAuthorization(TimeProvider.System, Options.Create(new GatewayOptions { AdminKey = AdminKey }),
            new AdminFailureThrottle(TimeProvider.System), new LoggerFactory([logs]).CreateLogger<AdminAuthorization>());
        var context = Context(null, "GET", presented);
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Parse("203.0.113.7");

        // Act
        var answer = await ExecuteAsync(context, await admin.RunAsync(context, "GET", static _ => Task.FromResult(Results.Ok())));

        // Assert
        Assert.Equal(StatusCodes.Status401Unauthorized, answer.Status);
        Assert.Contains("Warning Qhaigc.Functions.Admin.AdminAuthorization[5007] Admin call refused: no valid admin key from client 203.0.113.7 (1 failed attempts", logs.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(presented, logs.Text, StringComparison.Ordinal);
    }

    private static Task<IResult> Handle(ServiceProvider services, string route, HttpContext context) => route switch
    {
        "keys" => services.GetRequiredService<KeysEndpoint>().HandleKeysAsync(context),
        "key" => services.GetRequiredService<KeysEndpoint>().HandleKeyAsync(context, KeyId),
        "rotate" => services.GetRequiredService<KeysEndpoint>().HandleRotateAsync(context, KeyId),
        "statement" => services.GetRequiredService<StatementsEndpoint>().HandleStatementAsync(context, KeyId),
        "usage" => services.GetRequiredService<UsageEndpoint>().HandleUsageAsync(context),
        _ => throw new ArgumentOutOfRangeException(nameof(route), route, null),
    };

    /// <summary>The gateway's own composition, pointed at tables it never reaches in these tests.</summary>
    private static ServiceProvider Services(string? adminKey, Action<IServiceCollection>? configure = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Storage:ConnectionString"] = "UseDevelopmentStorage=true",
            ["Gateway:AdminKey"] = adminKey,
        }).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration).AddGateway(configuration);
        configure?.Invoke(services);
        return services.BuildServiceProvider();
    }

    private static DefaultHttpContext Context(IServiceProvider? services, string method, string? bearer)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Response.Body = new MemoryStream();
        if (services is not null)
        {
            context.RequestServices = services;
        }

        if (bearer is not null)
        {
            context.Request.Headers.Authorization = "Bearer " + bearer;
        }

        return context;
    }

    private static async Task<(int Status, JsonDocument Body)> ExecuteAsync(HttpContext context, IResult result)
    {
        await result.ExecuteAsync(context);
        context.Response.Body.Position = 0;
        return (context.Response.StatusCode, await JsonDocument.ParseAsync(context.Response.Body));
    }
}

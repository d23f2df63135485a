using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Tests.Infrastructure;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Storage;

/// <summary>
/// The usage transaction with Entra ID tokens, as the gateway writes in Azure (managed identity, no account key):
/// against an Azurite of its own that checks bearer tokens (<c>--oauth basic</c>, over HTTPS with a certificate made
/// for the test). Azurite checks a token's audience, issuer and lifetime, not its signature, so the test issues its own.
/// </summary>
public sealed class TableBatchTokenTests : IAsyncLifetime
{
    private string _folder = "";
    private string _thumbprint = "";
    private AzuriteServer _azurite = null!;

    private Uri ServiceUri => new($"https://127.0.0.1:{_azurite.Port}/{AzuriteServer.AccountName}");

    public async Task InitializeAsync()
    {
        _folder = Directory.CreateTempSubdirectory("qhaigc-oauth-").FullName;
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        _thumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        var certPath = Path.Combine(_folder, "cert.pem");
        var keyPath = Path.Combine(_folder, "key.pem");
        await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyPath, rsa.ExportPkcs8PrivateKeyPem());
        _azurite = await AzuriteServer.StartAsync(arguments: ["--oauth", "basic", "--cert", certPath, "--key", keyPath]);
    }

    public async Task DisposeAsync()
    {
        await _azurite.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task UpsertAsync_WritesRows_WithABearerToken()
    {
        // Arrange
        var credential = new IssuedToken("https://storage.azure.com");
        var options = TrustingTheTestCertificate();
        var table = new TableClient(ServiceUri, "usagetoken", credential, options);
        await table.CreateIfNotExistsAsync();
        var rows = Enumerable.Range(0, 3).Select(static i => UsageEntity.From(Record($"req_token{i}"))).ToList();

        // Act
        await TableBatchClient.ForToken(ServiceUri, credential, table.Name, options).UpsertAsync(rows, CancellationToken.None);

        // Assert: read back through the SDK, with the same token.
        var stored = new List<UsageRecord>();
        await foreach (var row in table.QueryAsync<UsageEntity>())
        {
            stored.Add(row.ToRecord());
        }

        Assert.Equal(rows.Select(static r => r.ToRecord()), stored.OrderBy(static r => r.RequestId));
        Assert.True(credential.Requests > 0);
    }

    [Fact]
    public async Task UpsertAsync_Throws403_WhenTheTokenIsForAnotherAudience()
    {
        // Arrange
        var options = TrustingTheTestCertificate();
        var table = new TableClient(ServiceUri, "usagewrongaud", new IssuedToken("https://storage.azure.com"), options);
        await table.CreateIfNotExistsAsync();
        var client = TableBatchClient.ForToken(ServiceUri, new IssuedToken("https://vault.azure.net"), table.Name, options);

        // Act
        var refused = await Assert.ThrowsAsync<RequestFailedException>(() => client.UpsertAsync([UsageEntity.From(Record("req_x"))], CancellationToken.None));

        // Assert
        Assert.Equal(403, refused.Status);
    }

    /// <summary>The test's own certificate (and no other) is trusted by this client only.</summary>
    private TableClientOptions TrustingTheTestCertificate() => new()
    {
        Transport = new HttpClientTransport(new HttpClient(new SocketsHttpHandler
        {
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && string.Equals(certificate.GetCertHashString(HashAlgorithmName.SHA256), _thumbprint, StringComparison.Ordinal),
            },
        })),
    };

    private static UsageRecord Record(string requestId) => new()
    {
        RequestId = requestId,
        KeyId = "key_0000000000token1",
        Endpoint = "messages",
        StartedAt = new DateTimeOffset(2026, 12, 5, 2, 0, 0, TimeSpan.Zero),
        Model = "claude-sonnet-4-5",
        Upstream = "anthropic",
        Status = 200,
        State = UsageState.Complete,
        InputTokens = 12,
        OutputTokens = 34,
        DurationMs = 56.5,
    };

    /// <summary>A token as Entra ID issues one for a managed identity, unsigned (Azurite does not check signatures).</summary>
    private sealed class IssuedToken(string audience) : TokenCredential
    {
        public int Requests { get; private set; }

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Requests++;
            var now = DateTimeOffset.UtcNow;
            var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["alg"] = "RS256", ["typ"] = "JWT" }));
            var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
            {
                ["aud"] = audience,
                ["iss"] = "https://sts.windows.net/00000000-0000-0000-0000-000000000000/",
                ["iat"] = now.AddMinutes(-5).ToUnixTimeSeconds(),
                ["nbf"] = now.AddMinutes(-5).ToUnixTimeSeconds(),
                ["exp"] = now.AddHours(1).ToUnixTimeSeconds(),
            }));
            return new AccessToken($"{header}.{payload}.{Base64Url(Encoding.ASCII.GetBytes("unsigned"))}", now.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));

        private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}

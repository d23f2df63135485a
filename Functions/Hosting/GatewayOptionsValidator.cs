using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Storage;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Hosting;

/// <summary>Checks the settings at start-up (ValidateOnStart), so a broken upstream stops the host instead of a call.</summary>
/// <param name="configuration">The whole configuration, for the storage the gateway falls back to (<c>AzureWebJobsStorage</c>).</param>
public sealed class GatewayOptionsValidator(IConfiguration? configuration = null) : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var failures = new List<string>();
        if (AdminKeyRule.Check(options.AdminKey, options.DevKey, UsesDevelopmentStorage(options.Storage)) is { } weak)
        {
            failures.Add(weak);
        }

        foreach (var (upstreamName, upstream) in options.Upstreams)
        {
            var prefix = $"Gateway:Upstreams:{upstreamName}";
            if (string.IsNullOrWhiteSpace(upstream.Kind))
            {
                failures.Add($"{prefix}:Kind is required ({UpstreamKinds.Anthropic}, {UpstreamKinds.OpenAi} or {UpstreamKinds.Local}).");
                continue;
            }

            if (!UpstreamKinds.IsSupported(upstream.Kind))
            {
                failures.Add($"{prefix}:Kind '{upstream.Kind}' is not supported by this version.");
                continue;
            }

            if (UpstreamKinds.NeedsBaseUrl(upstream.Kind) &&
                (upstream.BaseUrl is null || !upstream.BaseUrl.IsAbsoluteUri || upstream.BaseUrl.Scheme is not ("http" or "https")))
            {
                failures.Add($"{prefix}:BaseUrl must be an absolute http(s) URL.");
            }
            else if (UpstreamKinds.Normalize(upstream.Kind) == UpstreamKinds.OpenAi &&
                     !upstream.BaseUrl!.AbsolutePath.TrimEnd('/').EndsWith("/v1", StringComparison.Ordinal))
            {
                failures.Add($"{prefix}:BaseUrl of an {UpstreamKinds.OpenAi} upstream must end in /v1 (for example http://localhost:8000/v1).");
            }

            if (upstream.MaxTokensParameter is { } maxTokens && maxTokens.Trim() is not ("max_tokens" or "max_completion_tokens"))
            {
                failures.Add($"{prefix}:MaxTokensParameter must be max_tokens or max_completion_tokens.");
            }

            if (HeaderPolicy.InvalidDrop(upstream.DropHeaders) is { } notDroppable)
            {
                failures.Add($"{prefix}:DropHeaders may list only anthropic-* headers other than anthropic-version, not '{notDroppable}'.");
            }

            if (ModelPattern.Parse(upstream.Models).Length == 0)
            {
                failures.Add($"{prefix}:Models must name at least one pattern.");
            }

            if (upstream.Weight < 1)
            {
                failures.Add($"{prefix}:Weight must be a positive integer.");
            }

            if (upstream.IdleTimeout <= TimeSpan.Zero || upstream.ConnectTimeout <= TimeSpan.Zero)
            {
                failures.Add($"{prefix}: timeouts must be positive.");
            }
        }

        var keys = options.Keys;
        if (keys.CacheDuration <= TimeSpan.Zero || keys.LookupTimeout <= TimeSpan.Zero ||
            keys.NegativeCacheDuration < TimeSpan.Zero || keys.StaleGracePeriod < TimeSpan.Zero)
        {
            failures.Add("Gateway:Keys:CacheDuration and LookupTimeout must be positive, NegativeCacheDuration and StaleGracePeriod not negative.");
        }

        // docs/files.md#which-deployment-holds-a-file: only an anthropic or local upstream holds files.
        if (!string.IsNullOrWhiteSpace(options.Files.Upstream) &&
            !(options.Upstreams.TryGetValue(options.Files.Upstream.Trim(), out var holder) &&
              UpstreamKinds.Normalize(holder.Kind) is UpstreamKinds.Anthropic or UpstreamKinds.Local) &&
            !(options.Upstreams.Count == 0 && options.Files.Upstream.Trim().Equals(LocalUpstream.DefaultName, StringComparison.OrdinalIgnoreCase)))
        {
            failures.Add("Gateway:Files:Upstream must name an anthropic or local upstream.");
        }

        if (options.Files.MaxUploadBytes < 1 || options.Files.Prices.Values.Any(static price => price < 0))
        {
            failures.Add("Gateway:Files:MaxUploadBytes must be positive, and Gateway:Files:Prices not negative.");
        }

        if (keys.MaxEntries < 1 || keys.MaxUnknownEntries < 1)
        {
            failures.Add("Gateway:Keys:MaxEntries and MaxUnknownEntries must be at least 1.");
        }

        if (options.MaxRequestBodyBytes <= 0)
        {
            failures.Add("Gateway:MaxRequestBodyBytes must be positive.");
        }

        if (options.Streaming.PingInterval <= TimeSpan.Zero || options.Streaming.FirstEventTimeout <= TimeSpan.Zero)
        {
            failures.Add("Gateway:Streaming intervals must be positive.");
        }

        if (options.Usage.MaxAttempts < 1 || options.Usage.QueueCapacity < 1 || options.Usage.Writers < 1)
        {
            failures.Add("Gateway:Usage MaxAttempts, QueueCapacity and Writers must be at least 1.");
        }

        if (options.Usage.BatchWindow < TimeSpan.Zero || options.Usage.BatchWindow > TimeSpan.FromSeconds(5))
        {
            failures.Add("Gateway:Usage:BatchWindow must be between 0 and 5 seconds.");
        }

        var resilience = options.Resilience;
        if (resilience.MaxAttempts < 1 || resilience.BreakerFailureThreshold < 0)
        {
            failures.Add("Gateway:Resilience:MaxAttempts must be at least 1 and BreakerFailureThreshold at least 0.");
        }

        if (resilience.FirstRetryDelay < TimeSpan.Zero || resilience.MaxRetryDelay < TimeSpan.Zero || resilience.MaxRetryAfter < TimeSpan.Zero ||
            resilience.MaxTotalDelay < TimeSpan.Zero || resilience.BreakerDuration <= TimeSpan.Zero || resilience.CredentialFailureRest <= TimeSpan.Zero)
        {
            failures.Add("Gateway:Resilience delays must not be negative, and BreakerDuration and CredentialFailureRest must be positive.");
        }

        if (!AffinityModes.IsKnown(options.Routing.Affinity))
        {
            failures.Add($"Gateway:Routing:Affinity must be {AffinityModes.Session}, {AffinityModes.Key} or {AffinityModes.None}.");
        }

        if (options.Storage.TableServiceUri is { IsAbsoluteUri: false })
        {
            failures.Add("Gateway:Storage:TableServiceUri must be an absolute URL.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Storage settings that do not name an endpoint (a broken connection string) count as real storage.</summary>
    private bool UsesDevelopmentStorage(StorageOptions storage)
    {
        try
        {
            return GatewayTables.IsDevelopmentStorage(storage, configuration ?? new ConfigurationBuilder().Build());
        }
        catch (Exception exception) when (exception is FormatException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}

using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Tests.Infra;

/// <summary>
/// App setting names of the gateway's options, built from the options types themselves (env-var form, <c>__</c>), so
/// renaming an option in code changes what the infra tests demand of the template.
/// </summary>
public static class GatewaySettings
{
    private const string Separator = "__";

    public static string AdminKey => Name(nameof(GatewayOptions.AdminKey));

    public static string DevKey => Name(nameof(GatewayOptions.DevKey));

    public static string TableServiceUri => Name(nameof(GatewayOptions.Storage), nameof(StorageOptions.TableServiceUri));

    public static string ConnectionString => Name(nameof(GatewayOptions.Storage), nameof(StorageOptions.ConnectionString));

    public static string KeysTable => Name(nameof(GatewayOptions.Storage), nameof(StorageOptions.KeysTable));

    public static string UsageTable => Name(nameof(GatewayOptions.Storage), nameof(StorageOptions.UsageTable));

    public static string LimitsTable => Name(nameof(GatewayOptions.Storage), nameof(StorageOptions.LimitsTable));

    public static string UpstreamPrefix => Name(nameof(GatewayOptions.Upstreams)) + Separator;

    public static string Upstream(string upstream, string option) => Name(nameof(GatewayOptions.Upstreams), upstream, option);

    /// <summary>The names of the upstreams that a set of settings configures (each has a Kind).</summary>
    public static IEnumerable<string> UpstreamNames(IReadOnlyDictionary<string, string> settings) =>
        settings.Keys
            .Where(static key => key.StartsWith(UpstreamPrefix, StringComparison.Ordinal) &&
                key.EndsWith(Separator + nameof(UpstreamOptions.Kind), StringComparison.Ordinal))
            .Select(static key => key[UpstreamPrefix.Length..^(Separator.Length + nameof(UpstreamOptions.Kind).Length)])
            .Order(StringComparer.Ordinal);

    private static string Name(params string[] path) => string.Join(Separator, [GatewayOptions.SectionName, .. path]);
}

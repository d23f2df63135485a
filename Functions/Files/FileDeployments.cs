using Microsoft.Extensions.Options;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Files;

/// <summary>
/// Which deployments can hold files, and which one takes an upload (docs/files.md#which-deployment-holds-a-file):
/// <c>Gateway:Files:Upstream</c> when set, else the first, in name order, of the <c>anthropic</c> and <c>local</c>
/// deployments. A file stays where it was uploaded; later calls on it go to the deployment its record names.
/// </summary>
public sealed class FileDeployments
{
    private readonly Dictionary<string, IFileUpstream> _holders = new(StringComparer.Ordinal);
    private readonly IFileUpstream? _uploads;

    public FileDeployments(UpstreamRouter router, IOptions<GatewayOptions> options)
    {
        foreach (var deployment in router.Deployments)
        {
            if (deployment.Upstream is IFileUpstream { Files: not null } holder)
            {
                _holders[holder.Name] = holder;
            }
        }

        var named = options.Value.Files.Upstream;
        _uploads = string.IsNullOrWhiteSpace(named)
            ? router.Deployments.Select(static d => d.Upstream).OfType<IFileUpstream>().FirstOrDefault(static u => u.Files is not null)
            : _holders.Values.FirstOrDefault(u => string.Equals(u.Name, named.Trim(), StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The deployment that takes uploads; null when none can hold files.</summary>
    public IFileUpstream? ForUpload => _uploads;

    /// <summary>The deployment a file's record names; null when it is no longer configured (or can no longer hold files).</summary>
    public IUpstreamFiles? Holding(string upstream) => _holders.TryGetValue(upstream, out var holder) ? holder.Files : null;
}

namespace Qhaigc.Functions.Admin.Upstreams;

/// <summary>What <c>GET /manage/upstreams</c> answers (docs/admin-api.md#upstreams): every deployment as this instance sees it.</summary>
public sealed record UpstreamsReport(string Affinity, IReadOnlyList<UpstreamView> Upstreams);

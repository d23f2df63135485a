using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Qhaigc.Functions.Admin.Keys;
using Qhaigc.Functions.Admin.Upstreams;
using Qhaigc.Functions.Admin.Usage;
using Qhaigc.Functions.Customer;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Keys;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Protocol;

/// <summary>The project's one source-generated JSON context (reflection-based JSON is switched off).</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(KeyView))]
[JsonSerializable(typeof(KeyList))]
[JsonSerializable(typeof(UsageReport))]
[JsonSerializable(typeof(UsageRecord))]
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(ServiceStatus))]
[JsonSerializable(typeof(KeySecret[]))]
[JsonSerializable(typeof(Statement))]
[JsonSerializable(typeof(UpstreamsReport))]
[JsonSerializable(typeof(Batches.BatchState))]
[JsonSerializable(typeof(DailyReport))]
[JsonSerializable(typeof(CustomerKeyView))]
public sealed partial class GatewayJsonContext : JsonSerializerContext;

/// <summary>What <c>GET /</c> answers.</summary>
public sealed record ServiceStatus(string Name, string Status);

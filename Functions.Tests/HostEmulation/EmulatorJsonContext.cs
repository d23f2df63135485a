using System.Text.Json.Serialization;

namespace Qhaigc.Functions.Tests.HostEmulation;

[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class EmulatorJsonContext : JsonSerializerContext;

namespace Qhaigc.Functions.Upstreams;

/// <summary>A model the gateway serves, under the client's name.</summary>
public sealed record CatalogModel(string Id, string DisplayName, DateTimeOffset CreatedAt, long? MaxInputTokens, long? MaxTokens);

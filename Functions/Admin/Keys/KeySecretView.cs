namespace Qhaigc.Functions.Admin.Keys;

/// <summary>One secret of a key as admins see it: never the secret or its hash.</summary>
public sealed record KeySecretView(string Hint, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt);

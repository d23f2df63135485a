namespace Qhaigc.Functions.Admin.Keys;

/// <summary><c>GET /manage/keys</c> answer.</summary>
public sealed record KeyList(IReadOnlyList<KeyView> Data);

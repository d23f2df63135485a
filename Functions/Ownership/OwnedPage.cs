namespace Qhaigc.Functions.Ownership;

/// <summary>
/// One page of a key's objects of one kind, newest first, as Anthropic's list endpoints page them: <see cref="HasMore"/>
/// says whether more objects lie beyond the page in the direction asked for.
/// </summary>
public sealed record OwnedPage(IReadOnlyList<OwnedObject> Items, bool HasMore)
{
    public string? FirstId => Items.Count > 0 ? Items[0].Id : null;

    public string? LastId => Items.Count > 0 ? Items[^1].Id : null;
}

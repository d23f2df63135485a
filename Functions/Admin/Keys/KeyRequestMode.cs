namespace Qhaigc.Functions.Admin.Keys;

/// <summary>Which call a <see cref="KeyRequest"/> body belongs to; the fields and their rules are the same.</summary>
public enum KeyRequestMode
{
    /// <summary>
    /// <c>POST /manage/keys</c>: <c>name</c> required (at most 200 characters), <c>expiresAt</c> in the future; fields
    /// a new key does not take (<c>disabled</c>, anything unknown) are ignored.
    /// </summary>
    Create,

    /// <summary>
    /// <c>PATCH /manage/keys/{id}</c>: only the fields present change, <c>null</c> clears one; an unknown field is an
    /// error, because a misspelt field would otherwise change nothing without a word.
    /// </summary>
    Update,
}

namespace Qhaigc.Functions.Admin.Keys;

/// <summary>Which call a <see cref="KeyRequest"/> body belongs to; the fields and their rules are the same.</summary>
public enum KeyRequestMode
{
    /// <summary>
    /// <c>POST /manage/keys</c>: <c>name</c> required, <c>expiresAt</c> in the future; every field and limit as for
    /// <see cref="Update"/> (an unknown field is an error, <c>disabled</c> is honoured).
    /// </summary>
    Create,

    /// <summary>
    /// <c>PATCH /manage/keys/{id}</c>: only the fields present change, <c>null</c> clears one; an unknown field is an
    /// error, because a misspelt field would otherwise change nothing without a word. Names at most 200 characters.
    /// </summary>
    Update,
}

namespace Qhaigc.Functions.Ownership;

/// <summary>
/// Which ids can name an owned object: 1 to 200 ASCII letters, digits, <c>_</c> or <c>-</c>. Anything else (a path
/// separator, <c>#</c>, a control character) is not an id, and is answered as an object that does not exist without a
/// table read.
/// </summary>
public static class OwnedObjectIds
{
    public const int MaxLength = 200;

    public static bool IsValid(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}

using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Files;

/// <summary>
/// What <see cref="FileReferences.FindAsync"/> found: no file named (<see cref="Upstream"/> and <see cref="Error"/> both
/// null), the one deployment that holds every file the request names, or the refusal to answer.
/// </summary>
public readonly record struct FileReferenceCheck(string? Upstream, ApiError? Error)
{
    public static FileReferenceCheck None => default;

    public bool NamesFiles => Upstream is not null;
}

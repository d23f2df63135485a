using System.Text.Json;

namespace Qhaigc.Functions.Tests.Infra;

/// <summary>One role assignment of a snapshot: where it applies, which role, to whom.</summary>
public sealed record RoleAssignment(string Scope, string RoleDefinitionId, string PrincipalId, string? PrincipalType)
{
    private const string Marker = "/providers/Microsoft.Authorization/roleAssignments/";

    public static RoleAssignment From(JsonElement resource)
    {
        var id = DeploymentSnapshot.Id(resource);
        var properties = DeploymentSnapshot.Properties(resource);
        var roleDefinition = properties.GetProperty("roleDefinitionId").GetString()!;
        return new RoleAssignment(
            ScopeOf(id),
            roleDefinition[(roleDefinition.LastIndexOf('/') + 1)..],
            properties.GetProperty("principalId").GetString()!,
            properties.TryGetProperty("principalType", out var type) ? type.GetString() : null);
    }

    /// <summary>
    /// The scope's resource id: the part before the assignment's own segments, or, when the assignment's name is
    /// known only at deployment, the first argument of <c>[extensionResourceId('&lt;scope&gt;', ...)]</c>.
    /// </summary>
    private static string ScopeOf(string id)
    {
        const string Expression = "[extensionResourceId('";
        if (id.StartsWith(Expression, StringComparison.Ordinal))
        {
            return id[Expression.Length..id.IndexOf('\'', Expression.Length)];
        }

        var index = id.IndexOf(Marker, StringComparison.OrdinalIgnoreCase);
        return index < 0 ? id : id[..index];
    }
}

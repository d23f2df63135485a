using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>One HTTP-triggered function as the host routes it: <c>routePrefix/route</c> and its methods.</summary>
internal sealed class HttpFunctionRoute
{
    public required string FunctionId { get; init; }

    public required string FunctionName { get; init; }

    /// <summary>The trigger parameter's binding name; the InvocationRequest's input binding carries it.</summary>
    public required string BindingName { get; init; }

    /// <summary>The full template, prefix included (what the host matches).</summary>
    public required string Template { get; init; }

    /// <summary>Upper-case methods; empty means every method.</summary>
    public required IReadOnlySet<string> Methods { get; init; }

    public required TemplateMatcher Matcher { get; init; }

    public required IDictionary<string, IRouteConstraint> Constraints { get; init; }

    /// <summary>Inbound route precedence: lower is more specific, so literal routes beat <c>{*path}</c>.</summary>
    public required decimal Precedence { get; init; }

    public bool Allows(string method) => Methods.Count == 0 || Methods.Contains(method.ToUpperInvariant());
}

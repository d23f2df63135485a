using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Qhaigc.Functions.Tests.HostEmulation.Rpc;

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>
/// Routes a request to an HTTP-triggered function with the host's rules: the template is <c>host.json</c>'s
/// <c>routePrefix</c> plus the trigger's <c>route</c> (the function name when it has none), matched with ASP.NET Core's
/// <see cref="TemplateMatcher"/> and inline constraints, the trigger's methods act as a constraint, and routes are tried
/// in inbound precedence order, so a literal route beats a catch-all whatever the function names.
/// </summary>
/// <remarks>
/// The worker routes the forwarded request again with its own endpoint routing; if the two disagree the request gets a
/// 404 while the invocation waits, so this must match the worker's (and the host's) rules exactly.
/// </remarks>
internal sealed class HttpFunctionRouter
{
    private readonly IReadOnlyList<HttpFunctionRoute> _routes;

    private HttpFunctionRouter(IReadOnlyList<HttpFunctionRoute> routes) => _routes = routes;

    public IReadOnlyList<HttpFunctionRoute> Routes => _routes;

    public static HttpFunctionRouter Create(IEnumerable<RpcFunctionMetadata> functions, string routePrefix, IInlineConstraintResolver constraintResolver)
    {
        var routes = new List<HttpFunctionRoute>();
        foreach (var function in functions)
        {
            if (FindHttpTrigger(function) is not { } trigger)
            {
                continue;
            }

            var route = (trigger.Route ?? function.Name).Trim('/');
            var template = string.IsNullOrEmpty(routePrefix) ? route : $"{routePrefix}/{route}";
            var parsed = TemplateParser.Parse(template);
            var defaults = new RouteValueDictionary();
            var constraints = new RouteConstraintBuilder(constraintResolver, template);
            foreach (var parameter in parsed.Parameters)
            {
                if (parameter.DefaultValue is not null)
                {
                    defaults[parameter.Name!] = parameter.DefaultValue;
                }

                if (parameter.IsOptional)
                {
                    constraints.SetOptional(parameter.Name!);
                }

                foreach (var constraint in parameter.InlineConstraints)
                {
                    constraints.AddResolvedConstraint(parameter.Name!, constraint.Constraint);
                }
            }

            routes.Add(new HttpFunctionRoute
            {
                FunctionId = function.FunctionId,
                FunctionName = function.Name,
                BindingName = trigger.Name,
                Template = template,
                Methods = trigger.Methods,
                Matcher = new TemplateMatcher(parsed, defaults),
                Constraints = constraints.Build(),
                Precedence = RoutePrecedence.ComputeInbound(parsed),
            });
        }

        return new HttpFunctionRouter(
            [.. routes.OrderBy(static r => r.Precedence).ThenBy(static r => r.Template, StringComparer.OrdinalIgnoreCase)]);
    }

    public bool TryMatch(HttpContext context, [NotNullWhen(true)] out HttpFunctionRoute? match, out RouteValueDictionary values)
    {
        foreach (var route in _routes)
        {
            values = [];
            if (route.Allows(context.Request.Method) &&
                route.Matcher.TryMatch(context.Request.Path, values) &&
                MatchesConstraints(route, values, context))
            {
                match = route;
                return true;
            }
        }

        match = null;
        values = [];
        return false;
    }

    private static bool MatchesConstraints(HttpFunctionRoute route, RouteValueDictionary values, HttpContext context)
    {
        foreach (var (key, constraint) in route.Constraints)
        {
            if (!constraint.Match(context, null, key, values, RouteDirection.IncomingRequest))
            {
                return false;
            }
        }

        return true;
    }

    private static HttpTrigger? FindHttpTrigger(RpcFunctionMetadata function)
    {
        foreach (var raw in function.RawBindings)
        {
            using var binding = JsonDocument.Parse(raw);
            var root = binding.RootElement;
            if (!root.TryGetProperty("type", out var type) || !string.Equals(type.GetString(), "httpTrigger", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var methods = new HashSet<string>(StringComparer.Ordinal);
            if (root.TryGetProperty("methods", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var method in list.EnumerateArray())
                {
                    methods.Add(method.GetString()!.ToUpperInvariant());
                }
            }

            return new HttpTrigger(
                root.GetProperty("name").GetString()!,
                root.TryGetProperty("route", out var route) && route.ValueKind == JsonValueKind.String ? route.GetString() : null,
                methods);
        }

        return null;
    }

    private sealed record HttpTrigger(string Name, string? Route, IReadOnlySet<string> Methods);
}

using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Qhaigc.Functions.Hosting;

namespace Qhaigc.Functions.Customer;

/// <summary>The customer endpoint's routes in the Functions mode (docs/console.md#the-customer-endpoint).</summary>
public sealed class CustomerFunctions(CustomerEndpoint endpoint)
{
    [Function("GatewayKey")]
    public Task<IResult> Key([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = GatewayRoutes.GatewayKey)] HttpRequest request) =>
        endpoint.HandleKeyAsync(request.HttpContext);

    [Function("GatewayKeyDaily")]
    public Task<IResult> Daily([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = GatewayRoutes.GatewayKeyDaily)] HttpRequest request) =>
        endpoint.HandleDailyAsync(request.HttpContext);

    [Function("GatewayKeyStatement")]
    public Task<IResult> Statement(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = GatewayRoutes.GatewayKeyStatement)] HttpRequest request) =>
        endpoint.HandleStatementAsync(request.HttpContext);
}

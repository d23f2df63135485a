namespace Qhaigc.Functions.Hosting;

/// <summary>Decides whether this process was started by the Azure Functions host.</summary>
public static class GatewayHostMode
{
    /// <summary>
    /// The host always passes <c>--functions-worker-id</c> (and the older <c>--workerId</c>) to the worker it starts;
    /// <c>dotnet run</c> never does.
    /// </summary>
    public static bool IsFunctionsWorker(IReadOnlyList<string> args)
    {
        foreach (var arg in args)
        {
            if (arg.StartsWith("--functions-worker-id", StringComparison.OrdinalIgnoreCase) ||
                arg.StartsWith("--workerId", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>One HTTP invocation through the emulated host: what was routed where, and how both halves ended.</summary>
public sealed record InvocationReport
{
    public required string InvocationId { get; init; }

    public required string FunctionName { get; init; }

    public required string Method { get; init; }

    public required string Path { get; init; }

    public required InvocationStatus Status { get; init; }

    /// <summary>The status code the worker's HTTP response carried to the client.</summary>
    public required int HttpStatusCode { get; init; }

    /// <summary>YARP's forwarding outcome (<c>None</c>, or why the forwarded request or response failed).</summary>
    public required string ForwarderError { get; init; }

    /// <summary>Whether the client went away and InvocationCancel was sent to the worker.</summary>
    public required bool CancelSent { get; init; }

    public string? Exception { get; init; }

    public required TimeSpan Duration { get; init; }
}

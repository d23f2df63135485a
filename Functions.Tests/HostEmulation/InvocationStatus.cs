namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>How an invocation ended, as the host sees it.</summary>
public enum InvocationStatus
{
    /// <summary>InvocationResponse with status Success.</summary>
    Success,

    /// <summary>InvocationResponse with status Failure (the function threw, or the worker could not bind it).</summary>
    Failure,

    /// <summary>InvocationResponse with status Cancelled.</summary>
    Cancelled,

    /// <summary>No InvocationResponse within the emulator's wait after the HTTP response was forwarded.</summary>
    TimedOut,

    /// <summary>The worker's stream ended before it answered.</summary>
    WorkerGone,
}

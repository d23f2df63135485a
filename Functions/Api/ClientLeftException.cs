namespace Qhaigc.Functions.Api;

/// <summary>The client went away while its request body was being read, or its answer written: the call is cancelled (docs/faults.md).</summary>
public sealed class ClientLeftException : OperationCanceledException
{
    public ClientLeftException()
        : base("The client left before it sent the whole body.")
    {
    }

    public ClientLeftException(string message)
        : base(message)
    {
    }

    public ClientLeftException(Exception innerException)
        : base("The client left before it sent the whole body.", innerException)
    {
    }

    public ClientLeftException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

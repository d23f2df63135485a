namespace Qhaigc.Functions.Storage;

/// <summary>Table Storage did not answer (unreachable, timed out, or a server error); the call may be retried.</summary>
public sealed class StorageUnavailableException : Exception
{
    public StorageUnavailableException()
    {
    }

    public StorageUnavailableException(string message)
        : base(message)
    {
    }

    public StorageUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

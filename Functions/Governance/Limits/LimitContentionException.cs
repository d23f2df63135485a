namespace Qhaigc.Functions.Governance;

/// <summary>Too many instances changed a key's counters at once: the optimistic update gave up after its retries.</summary>
public sealed class LimitContentionException : Exception
{
    public LimitContentionException()
    {
    }

    public LimitContentionException(string message)
        : base(message)
    {
    }

    public LimitContentionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

namespace Qhaigc.Functions.Upstreams;

/// <summary>
/// The upstream sent something that is not what its protocol promises (an event whose data is not JSON, say). An
/// <see cref="IOException"/>, because for the call it is the same as a broken connection: the answer cannot go on.
/// </summary>
public sealed class UpstreamProtocolException : IOException
{
    public UpstreamProtocolException()
    {
    }

    public UpstreamProtocolException(string message)
        : base(message)
    {
    }

    public UpstreamProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

namespace Qhaigc.Bench.Runner.Scale;

public static class ScaleContenderNames
{
    public static string Of(ScaleContender contender) => contender switch
    {
        ScaleContender.Proxy => "proxy",
        ScaleContender.Gateway => "gateway",
        _ => "gateway (no-CPU store)",
    };
}

namespace Qhaigc.Functions.Tests.Infra;

/// <summary>What one Bicep CLI command did: its arguments, exit code and both output streams.</summary>
public sealed record BicepRun(string Arguments, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>True when the command exited 0 and printed no diagnostic (Bicep prints them on standard error).</summary>
    public bool IsClean => ExitCode == 0 && string.IsNullOrWhiteSpace(StandardError);

    public override string ToString() =>
        $"bicep {Arguments} exited {ExitCode}{Environment.NewLine}{StandardError}{StandardOutput}".TrimEnd();
}

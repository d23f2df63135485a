namespace Qhaigc.Functions.Governance;

/// <summary>Which limit refused a call, in the order they are checked: a spent cap first (waiting does not help).</summary>
public enum LimitKind
{
    None,
    Spend,
    Requests,
    Tokens,
    InputTokens,
    OutputTokens,
    Streams,
}

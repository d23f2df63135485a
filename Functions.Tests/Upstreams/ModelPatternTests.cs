using Qhaigc.Functions.Upstreams;

namespace Qhaigc.Functions.Tests.Upstreams;

public sealed class ModelPatternTests
{
    [Theory]
    [InlineData("*", "anything", true)]
    [InlineData("claude-*", "claude-sonnet-4-5", true)]
    [InlineData("claude-*", "Claude-Opus", true)]
    [InlineData("claude-*", "gpt-4o", false)]
    [InlineData("*-mini", "gpt-4o-mini", true)]
    [InlineData("gpt-4?", "gpt-4o", true)]
    [InlineData("gpt-4?", "gpt-4o-mini", false)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a*b*c", "aXXbYY", false)]
    [InlineData("exact", "exact", true)]
    [InlineData("exact", "exactly", false)]
    public void IsMatch_FollowsGlobRules(string pattern, string model, bool expected) =>
        Assert.Equal(expected, ModelPattern.IsMatch(pattern, model));

    [Fact]
    public void Parse_SplitsAndTrims()
    {
        Assert.Equal(["claude-*", "gpt-4o"], ModelPattern.Parse(" claude-* , gpt-4o ,, "));
        Assert.Empty(ModelPattern.Parse(null));
    }

    [Fact]
    public void IsMatch_StaysLinear_OnAdversarialPatterns()
    {
        // Arrange: the classic exponential case for naive backtracking.
        var pattern = string.Concat(Enumerable.Repeat("*a", 30)) + "b";
        var model = new string('a', 5000);

        // Act & Assert: returns (quickly) and correctly.
        Assert.False(ModelPattern.IsMatch(pattern, model));
    }
}

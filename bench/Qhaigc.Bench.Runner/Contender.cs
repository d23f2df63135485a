namespace Qhaigc.Bench.Runner;

/// <summary>One side of a round of runs taken in turn: where the load goes, and how its cost is read.</summary>
public sealed record Contender(string Name, Target Target, Func<Func<Task<Numbers>>, Task<Numbers>> Measure);

namespace Qhaigc.Functions.Tests.WebConsole;

/// <summary>The console's browser tests share one gateway and one browser (<see cref="ConsoleFixture"/>); each test makes keys of its own.</summary>
[CollectionDefinition(Name)]
public sealed class ConsoleTests : ICollectionFixture<ConsoleFixture>
{
    public const string Name = "console";
}

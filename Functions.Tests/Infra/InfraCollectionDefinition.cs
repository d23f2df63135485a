namespace Qhaigc.Functions.Tests.Infra;

/// <summary>The tests that share one compilation of <c>infra/</c>.</summary>
[CollectionDefinition(Name)]
public sealed class InfraCollectionDefinition : ICollectionFixture<InfraDeployment>
{
    public const string Name = "Infra";
}

using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>The in-memory limit ledger of the unit tests: every scenario of <see cref="LimitLedgerContract"/>, as the table ledger passes them.</summary>
public sealed class InMemoryLimitLedgerTests : LimitLedgerContract
{
    protected override Task<ILimitLedger> CreateLedgerAsync() => Task.FromResult<ILimitLedger>(new InMemoryLimitLedger());
}

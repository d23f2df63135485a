using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Governance;

/// <summary>The limit ledger against Azurite: every scenario of <see cref="LimitLedgerContract"/>.</summary>
public sealed class TableLimitLedgerTests : LimitLedgerContract
{
    protected override async Task<ILimitLedger> CreateLedgerAsync()
    {
        var environment = await GatewayTestEnvironment.CreateAsync();
        return new TableLimitLedger(environment.Tables, environment.Usage, Options.Create(new GatewayOptions()), NullLogger<TableLimitLedger>.Instance);
    }
}

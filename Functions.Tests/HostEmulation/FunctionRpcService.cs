using Grpc.Core;
using Qhaigc.Functions.Tests.HostEmulation.Rpc;

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary><c>/AzureFunctionsRpcMessages.FunctionRpc/EventStream</c>, the one call the worker makes to its host.</summary>
internal sealed class FunctionRpcService(WorkerChannel channel) : FunctionRpc.FunctionRpcBase
{
    public override Task EventStream(
        IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context) =>
        channel.RunAsync(requestStream, responseStream, context.CancellationToken);
}

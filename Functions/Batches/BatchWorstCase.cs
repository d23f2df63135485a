using System.Runtime.InteropServices;
using System.Text.Json;
using Qhaigc.Functions.Governance;
using Qhaigc.Functions.Hosting;
using Qhaigc.Functions.Protocol;
using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Batches;

/// <summary>
/// A batch's worst case, request by request, exactly as a call's reservation is computed (docs/limits-and-prices.md#what-a-hard-cap-guarantees)
/// but at batch prices: the input's hard bound (<see cref="InputBoundReader"/>, <see cref="InputReservation"/>; input
/// the gateway cannot measure at the context window, since batches never count first), <c>max_tokens</c> at the output
/// price, the options and server tools the request asks for (<see cref="PricedRequest"/>). What a capped key cannot run
/// as a call (an unpriced model, option or tool) it cannot run in a batch either. A key without a spend cap reserves
/// nothing; only <c>UnpricedModels = refuse</c> refuses its unpriced models, as for calls.
/// </summary>
internal sealed class BatchWorstCase(PriceTable prices, LimitsOptions limits, bool capped) : BatchCostTally
{
    private static readonly byte[] CacheControl = "\"cache_control\""u8.ToArray();

    private long _worst;

    public override long WorstCaseMicros => _worst;

    public override ApiError? Add(JsonElement request, string servedModel, string? anthropicBeta)
    {
        var model = request.TryGetProperty("model", out var named) && named.ValueKind == JsonValueKind.String ? named.GetString() ?? servedModel : servedModel;
        var price = prices.FindBatch(servedModel);
        if (price is null && (capped || prices.RefusesUnpriced))
        {
            return ApiError.From(ApiErrorKind.Permission,
                $"The model '{Clip(model)}'{(servedModel == model ? "" : $" (served as '{Clip(servedModel)}')")} has no price on this gateway, and " +
                (capped ? "this API key has a spend cap: it can only run models with a price. Ask the gateway operator to price the model." : "unpriced models are refused."));
        }

        if (!capped || price is null)
        {
            return null;
        }

        var priced = PricedRequest.Read(request, prices.ServerToolUsesWithoutMax);
        if (price.Unpriceable(priced) is { } problem)
        {
            return ApiError.From(ApiErrorKind.Permission, $"This request cannot be priced on this gateway ({problem}), and this API key has a spend cap.");
        }

        var window = Math.Max(InputReservation.ContextWindow(limits, model, anthropicBeta), InputReservation.ContextWindow(limits, servedModel, anthropicBeta));
        var input = InputReservation.Tokens(InputBoundReader.Read(request), window, limits, counted: null);
        var maxTokens = request.TryGetProperty("max_tokens", out var max) && max.TryGetInt64(out var tokens) ? Math.Max(0, tokens) : 0;
        var mayWriteCache = JsonNames.Mentions(JsonMarshal.GetRawUtf8Value(request), request, CacheControl, "cache_control");
        var worst = price.WorstCaseMicros(input, maxTokens, mayWriteCache, priced);
        _worst = worst < 0 || worst > long.MaxValue - _worst ? long.MaxValue : _worst + worst;
        return null;
    }

    private static string Clip(string value) => value.Length <= 256 ? value : value[..256];
}

using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Qhaigc.Functions.Tests.HostEmulation.Rpc;
using Qhaigc.Functions.Tests.Infrastructure;
using Yarp.ReverseProxy.Forwarder;

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>
/// The gateway in Functions mode: the real build output of the Functions project, started as a separate process by an
/// emulated Functions host exactly as the host starts it, with every HTTP request going through the host's path
/// (route, forward to the worker's own server, InvocationRequest over gRPC, stream the response back).
/// </summary>
/// <remarks>
/// The real host cannot be installed in the test environment; what this proves and what only a deployment proves is
/// in docs/hosting.md#the-emulated-functions-host.
/// </remarks>
public sealed class FunctionsGatewayHost : IGatewayHost
{
    /// <summary>The host's default request body limit (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT), 100 MB.</summary>
    public const long MaxRequestBodySize = 104_857_600;

    /// <summary>The app setting that raises the host's request body limit, honoured by the emulated host as by the real one.</summary>
    public const string RequestBodySizeLimitSetting = "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT";

    private readonly WebApplication _emulator;
    private readonly WorkerProcess _worker;
    private readonly WorkerChannel _channel;
    private readonly FrontDoor _frontDoor;
    private readonly HttpMessageInvoker _workerClient;
    private readonly EmulatorLog _log;
    private readonly OtlpReceiver? _telemetry;
    private readonly IReadOnlyList<RpcFunctionMetadata> _functions;

    private FunctionsGatewayHost(
        WebApplication emulator, WorkerProcess worker, WorkerChannel channel, FrontDoor frontDoor, HttpMessageInvoker workerClient,
        EmulatorLog log, Uri baseAddress, HttpFunctionRouter router, OtlpReceiver? telemetry, IReadOnlyList<RpcFunctionMetadata> functions)
    {
        _telemetry = telemetry;
        _functions = functions;
        _emulator = emulator;
        _worker = worker;
        _channel = channel;
        _frontDoor = frontDoor;
        _workerClient = workerClient;
        _log = log;
        BaseAddress = baseAddress;
        Routes = [.. router.Routes.Select(static r => $"{string.Join(',', r.Methods.Order(StringComparer.Ordinal))} /{r.Template} -> {r.FunctionName}")];
    }

    public string Mode => GatewayHosts.Functions;

    /// <summary>The emulated host's HTTP front door (127.0.0.1, free port).</summary>
    public Uri BaseAddress { get; }

    /// <summary>The worker's console output, its RpcLog messages and the emulated host's own lines (one per invocation).</summary>
    public string CapturedLogs => _log.Text;

    /// <summary>What the worker exported over OTLP to the test receiver, decoded and checked for secrets.</summary>
    public TelemetryCapture? Telemetry => _telemetry?.Capture;

    /// <summary>Every HTTP invocation so far, with its status as the worker reported it.</summary>
    public IReadOnlyCollection<InvocationReport> Invocations => _frontDoor.Invocations;

    /// <summary>The routes the host built from the worker's metadata, in match order ("GET,POST /template -> Function").</summary>
    public IReadOnlyList<string> Routes { get; }

    public IReadOnlyDictionary<string, string> WorkerCapabilities => _channel.Capabilities;

    public int WorkerProcessId => _worker.Id;

    public bool WorkerHasExited => _worker.HasExited;

    /// <summary>The worker's exit code, once it has exited.</summary>
    public int? WorkerExitCode => _worker.HasExited ? _worker.ExitCode : null;

    /// <summary>How long <see cref="DisposeAsync"/> waits for the worker to exit after WorkerTerminate before it kills it.</summary>
    public TimeSpan GracefulStopTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Starts the worker under the emulated host and completes the handshake; settings use <c>:</c>-separated keys.
    /// <paramref name="observer"/>, if any, is told of the worker's start-up (the cold-start benchmark's timings).
    /// </summary>
    public static async Task<FunctionsGatewayHost> StartAsync(
        IReadOnlyDictionary<string, string?> settings, FunctionsAppOutput? app = null, bool telemetry = true, IWorkerStartObserver? observer = null)
    {
        KnownSecrets.RegisterSettings(settings);
        // The worker is another process: it exports over OTLP/HTTP to a receiver here, as it would to any collector.
        var receiver = telemetry ? await OtlpReceiver.StartAsync() : null;
        if (receiver is not null)
        {
            var withTelemetry = new Dictionary<string, string?>(settings);
            foreach (var (key, value) in receiver.GatewaySettings())
            {
                withTelemetry.TryAdd(key, value);
            }

            settings = withTelemetry;
        }

        app ??= FunctionsAppOutput.Locate();
        var log = new EmulatorLog();
        var channel = new WorkerChannel(Guid.NewGuid().ToString(), log);
        var bodyLimit = settings.TryGetValue(RequestBodySizeLimitSetting, out var limitText) && long.TryParse(limitText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var limit) ? limit : MaxRequestBodySize;
        var emulator = BuildEmulator(channel, log, bodyLimit, out var endpoints);
        FrontDoor? frontDoor = null;
        emulator.Use(next => context =>
        {
            if (context.Connection.LocalPort == endpoints.Grpc.IPEndPoint!.Port)
            {
                return next(context);
            }

            if (frontDoor is null)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return Task.CompletedTask;
            }

            return InvokeLoggedAsync(frontDoor, context, log);
        });
        emulator.MapGrpcService<FunctionRpcService>();
        await emulator.StartAsync();

        var grpcUri = new Uri($"http://127.0.0.1:{endpoints.Grpc.IPEndPoint!.Port}/");
        var baseAddress = new Uri($"http://127.0.0.1:{endpoints.FrontDoor.IPEndPoint!.Port}/");
        var workerClient = FrontDoor.CreateWorkerClient();
        WorkerProcess? worker = null;
        try
        {
            if (observer is not null)
            {
                channel.StreamStarted = () => observer.Connected(worker?.Id ?? 0);
                observer.Launching();
            }

            worker = WorkerProcess.Start(app, grpcUri, channel.WorkerId, Guid.NewGuid().ToString(), settings, log);
            var initializing = channel.InitializeAsync(app, CancellationToken.None);
            if (await Task.WhenAny(initializing, worker.Exited) != initializing)
            {
                throw new InvalidOperationException($"The worker exited with code {worker.ExitCode} during start-up.");
            }

            var functions = await initializing;
            if (observer is not null)
            {
                await observer.InitializedAsync(worker.Id, channel.HttpUri);
            }

            // The host routes requests as soon as every function is loaded, and retries refused connections while the
            // worker's own server binds. The emulator also waits for that server, so a test that stops the worker at
            // once does not cancel the worker's start-up (which the worker reports as a crash, exit code 134).
            await FreePort.WaitUntilListeningAsync(channel.HttpUri.Port, TimeSpan.FromSeconds(30));
            var router = HttpFunctionRouter.Create(functions, app.RoutePrefix, emulator.Services.GetRequiredService<IInlineConstraintResolver>());
            frontDoor = new FrontDoor(channel, router, emulator.Services.GetRequiredService<IHttpForwarder>(), workerClient, log);
            log.Add($"host: worker {worker.Id} ready with {router.Routes.Count} HTTP functions, HttpUri {channel.HttpUri}");
            return new FunctionsGatewayHost(emulator, worker, channel, frontDoor, workerClient, log, baseAddress, router, receiver, functions);
        }
        catch (Exception exception)
        {
            if (worker is not null)
            {
                await worker.DisposeAsync();
            }

            await StopEmulatorAsync(emulator);
            workerClient.Dispose();
            if (receiver is not null)
            {
                await receiver.DisposeAsync();
            }

            throw new InvalidOperationException($"The Functions worker did not start under the emulated host: {exception.Message}{Environment.NewLine}{log.Text}", exception);
        }
    }

    /// <summary>
    /// Fires a timer-triggered function as the host does when its schedule comes: an InvocationRequest whose trigger
    /// input is the host's TimerInfo JSON. Returns the worker's result status and its exception's message, if any.
    /// </summary>
    public async Task<(string Status, string? Error)> InvokeTimerAsync(string functionName, CancellationToken cancellationToken)
    {
        var function = _functions.Single(f => f.Name == functionName);
        var request = new InvocationRequest
        {
            InvocationId = Guid.NewGuid().ToString(),
            FunctionId = function.FunctionId,
            InputData =
            {
                new ParameterBinding
                {
                    Name = "timer",
                    Data = new TypedData { Json = """{"Schedule":{"AdjustForDST":true},"ScheduleStatus":null,"IsPastDue":false}""" },
                },
            },
            TraceContext = new RpcTraceContext { TraceParent = "00-" + Guid.NewGuid().ToString("N") + "-" + Guid.NewGuid().ToString("N")[..16] + "-01" },
        };
        var response = await _channel.InvokeAsync(request, cancellationToken);
        _log.Add($"host: {functionName} (timer) {response.InvocationResponse.Result.Status}");
        var result = response.InvocationResponse.Result;
        return (result.Status.ToString(), result.Exception?.Message);
    }

    /// <summary>Sends WorkerTerminate and waits for the worker to exit by itself; false if it did not in time.</summary>
    public async Task<bool> TerminateWorkerAsync(TimeSpan timeout)
    {
        if (_worker.HasExited)
        {
            return true;
        }

        _channel.Terminate(TimeSpan.FromSeconds(1));
        return await _worker.WaitForExitAsync(timeout);
    }

    /// <summary>
    /// Whether disposal fails when an invocation ended as Failure, TimedOut or WorkerGone: a function that throws still
    /// sends the worker's status line to the client, so only the invocation status shows it. On by default, so every
    /// end-to-end test in this mode also checks that no invocation failed behind a response that looked fine.
    /// </summary>
    public bool FailOnUnsuccessfulInvocations { get; set; } = true;

    public async ValueTask DisposeAsync()
    {
        try
        {
            // A graceful stop first, as the host does; the worker is killed below whatever happens.
            if (!_worker.HasExited && !_channel.Disconnected.IsCompleted)
            {
                await _channel.WaitForPendingAsync(GracefulStopTimeout);
                await TerminateWorkerAsync(GracefulStopTimeout);
            }
        }
        finally
        {
            await _worker.DisposeAsync();
            await StopEmulatorAsync(_emulator);
            _workerClient.Dispose();
            if (_telemetry is not null)
            {
                await _telemetry.DisposeAsync();
            }
        }

        var unsuccessful = Invocations.Where(static r => r.Status is not (InvocationStatus.Success or InvocationStatus.Cancelled)).ToList();
        if (FailOnUnsuccessfulInvocations && unsuccessful.Count > 0)
        {
            throw new InvalidOperationException(
                $"{unsuccessful.Count} invocation(s) did not succeed: {string.Join("; ", unsuccessful)}{Environment.NewLine}{CapturedLogs}");
        }

        // As for every test gateway: no key, upstream or admin secret, nor prompt canary, in anything it logged.
        if (KnownSecrets.FindIn(CapturedLogs) is { } secret)
        {
            Assert.Fail($"The Functions-mode gateway logged a secret or prompt text ({secret[..Math.Min(6, secret.Length)]}…).");
        }

        if (Telemetry?.Violations is [_, ..] exported)
        {
            Assert.Fail($"The Functions-mode gateway exported {exported.Count} span(s), metric point(s) or log record(s) with a secret or prompt text:\n" +
                        string.Join('\n', exported.Take(5)));
        }
    }

    private static async Task InvokeLoggedAsync(FrontDoor frontDoor, HttpContext context, EmulatorLog log)
    {
        try
        {
            await frontDoor.InvokeAsync(context);
        }
        catch (Exception exception)
        {
            // A fault of the emulator itself, not of the worker: make it visible in the captured logs.
            log.Add($"host: front door failed on {context.Request.Method} {context.Request.Path}: {exception}");
            throw;
        }
    }

    private static WebApplication BuildEmulator(WorkerChannel channel, EmulatorLog log, long bodyLimit, out EmulatorEndpoints endpoints)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new EmulatorLoggerProvider(log));
        builder.Services.Configure<HostOptions>(static options => options.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var listen = new EmulatorEndpoints();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = bodyLimit;
            // The worker's channel is gRPC over cleartext HTTP/2 (h2c), so that listener speaks HTTP/2 only.
            kestrel.Listen(IPAddress.Loopback, 0, options =>
            {
                options.Protocols = HttpProtocols.Http2;
                listen.Grpc = options;
            });
            kestrel.Listen(IPAddress.Loopback, 0, options => listen.FrontDoor = options);
        });
        builder.Services.AddGrpc(static options =>
        {
            // The host allows messages of any size (it passes int.MaxValue to the worker too).
            options.MaxReceiveMessageSize = null;
            options.MaxSendMessageSize = null;
        });
        builder.Services.AddHttpForwarder();
        builder.Services.AddSingleton(channel);
        endpoints = listen;
        return builder.Build();
    }

    private static async Task StopEmulatorAsync(WebApplication emulator)
    {
        await emulator.StopAsync();
        await emulator.DisposeAsync();
    }

    private sealed class EmulatorEndpoints
    {
        public ListenOptions Grpc { get; set; } = null!;

        public ListenOptions FrontDoor { get; set; } = null!;
    }
}

using System.Reflection;
using Google.Protobuf.Reflection;
using Qhaigc.Functions.Tests.HostEmulation.Rpc;

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>
/// The emulator's hand-written proto subset against the worker's own protocol: the full descriptor compiled into
/// Microsoft.Azure.Functions.Worker.Grpc (internal, read by reflection). A worker update that renumbers or retypes a
/// field the emulator uses fails here, not as a mysterious hang.
/// </summary>
public sealed class FunctionRpcProtoTests
{
    /// <summary>Our message names that differ from the worker's (RpcException would clash with Grpc.Core's).</summary>
    private static readonly Dictionary<string, string> Renamed = new(StringComparer.Ordinal)
    {
        ["AzureFunctionsRpcMessages.WorkerException"] = "AzureFunctionsRpcMessages.RpcException",
    };

    [Fact]
    public void Service_IsTheWorkersBidirectionalEventStream()
    {
        // Arrange
        var ours = Assert.Single(FunctionRpcReflection.Descriptor.Services);
        var theirs = Find<ServiceDescriptor>(WorkerDescriptor(), ours.FullName);

        // Assert: the gRPC path /AzureFunctionsRpcMessages.FunctionRpc/EventStream is what the worker calls.
        Assert.NotNull(theirs);
        var method = Assert.Single(ours.Methods);
        var theirMethod = theirs.FindMethodByName(method.Name);
        Assert.NotNull(theirMethod);
        Assert.True(method.IsClientStreaming && method.IsServerStreaming);
        Assert.Equal((theirMethod.IsClientStreaming, theirMethod.IsServerStreaming), (method.IsClientStreaming, method.IsServerStreaming));
        Assert.Equal(theirMethod.InputType.FullName, method.InputType.FullName);
    }

    [Fact]
    public void Subset_MatchesTheWorkersProtocol_FieldForField()
    {
        // Arrange
        var theirs = WorkerDescriptor();
        var problems = new List<string>();
        var compared = 0;

        // Act
        foreach (var message in AllMessages(FunctionRpcReflection.Descriptor.MessageTypes))
        {
            if (message.GetOptions()?.MapEntry == true)
            {
                continue;
            }

            var theirMessage = Find<MessageDescriptor>(theirs, TheirName(message.FullName));
            if (theirMessage is null)
            {
                problems.Add($"{message.FullName}: no such message in the worker's protocol");
                continue;
            }

            foreach (var field in message.Fields.InFieldNumberOrder())
            {
                compared++;
                CompareField(field, theirMessage.FindFieldByNumber(field.FieldNumber), problems);
            }

            foreach (var enumType in message.EnumTypes)
            {
                CompareEnum(enumType, theirMessage.EnumTypes.FirstOrDefault(e => e.Name == enumType.Name), problems);
            }
        }

        // Assert
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        Assert.True(compared > 100, $"only {compared} fields compared");
    }

    private static void CompareField(FieldDescriptor ours, FieldDescriptor? theirs, List<string> problems)
    {
        var name = $"{ours.ContainingType.FullName}.{ours.Name} = {ours.FieldNumber}";
        if (theirs is null)
        {
            problems.Add($"{name}: the worker has no field {ours.FieldNumber}");
            return;
        }

        if (theirs.Name != ours.Name)
        {
            problems.Add($"{name}: the worker calls field {ours.FieldNumber} '{theirs.Name}'");
        }

        if (theirs.FieldType != ours.FieldType || theirs.IsRepeated != ours.IsRepeated || theirs.IsMap != ours.IsMap)
        {
            problems.Add($"{name}: {Shape(ours)} here, {Shape(theirs)} in the worker");
            return;
        }

        if (ours.RealContainingOneof?.Name != theirs.RealContainingOneof?.Name)
        {
            problems.Add($"{name}: oneof '{ours.RealContainingOneof?.Name}' here, '{theirs.RealContainingOneof?.Name}' in the worker");
        }

        if (ours.IsMap)
        {
            // Map entries are messages of their own (key = 1, value = 2); compare both sides' fields.
            CompareField(ours.MessageType.FindFieldByNumber(1), theirs.MessageType.FindFieldByNumber(1), problems);
            CompareField(ours.MessageType.FindFieldByNumber(2), theirs.MessageType.FindFieldByNumber(2), problems);
        }
        else if (ours.FieldType == FieldType.Message && TheirName(ours.MessageType.FullName) != theirs.MessageType.FullName)
        {
            problems.Add($"{name}: message {ours.MessageType.FullName} here, {theirs.MessageType.FullName} in the worker");
        }
        else if (ours.FieldType == FieldType.Enum && ours.EnumType.FullName != theirs.EnumType.FullName)
        {
            problems.Add($"{name}: enum {ours.EnumType.FullName} here, {theirs.EnumType.FullName} in the worker");
        }
    }

    private static void CompareEnum(EnumDescriptor ours, EnumDescriptor? theirs, List<string> problems)
    {
        if (theirs is null)
        {
            problems.Add($"{ours.FullName}: no such enum in the worker's protocol");
            return;
        }

        foreach (var value in ours.Values)
        {
            if (theirs.FindValueByNumber(value.Number)?.Name != value.Name)
            {
                problems.Add($"{ours.FullName}.{value.Name} = {value.Number}: the worker's {value.Number} is '{theirs.FindValueByNumber(value.Number)?.Name}'");
            }
        }
    }

    private static string Shape(FieldDescriptor field) =>
        $"{(field.IsMap ? "map" : field.IsRepeated ? "repeated " + field.FieldType : field.FieldType.ToString())}";

    /// <summary>A top-level type by full name (FindTypeByName takes the name without the package).</summary>
    private static T? Find<T>(FileDescriptor file, string fullName)
        where T : class, IDescriptor =>
        file.FindTypeByName<T>(fullName[(file.Package.Length + 1)..]);

    private static string TheirName(string ourName) => Renamed.TryGetValue(ourName, out var theirs) ? theirs : ourName;

    private static IEnumerable<MessageDescriptor> AllMessages(IEnumerable<MessageDescriptor> messages) =>
        messages.SelectMany(static m => AllMessages(m.NestedTypes).Prepend(m));

    /// <summary>The worker's FunctionRpc.proto, compiled in as internal <c>FunctionRpcReflection.Descriptor</c>.</summary>
    private static FileDescriptor WorkerDescriptor()
    {
        var assembly = Assembly.Load("Microsoft.Azure.Functions.Worker.Grpc");
        var reflection = assembly.GetType("Microsoft.Azure.Functions.Worker.Grpc.Messages.FunctionRpcReflection", throwOnError: true)!;
        var descriptor = reflection.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null);
        return Assert.IsType<FileDescriptor>(descriptor);
    }
}

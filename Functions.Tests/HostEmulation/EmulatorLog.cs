using System.Collections.Concurrent;
using System.Text;

namespace Qhaigc.Functions.Tests.HostEmulation;

/// <summary>Everything the emulated host saw: the worker's console output, its RpcLog messages and the host's own lines.</summary>
public sealed class EmulatorLog
{
    private readonly ConcurrentQueue<string> _lines = new();

    public string Text
    {
        get
        {
            var builder = new StringBuilder();
            foreach (var line in _lines)
            {
                builder.AppendLine(line);
            }

            return builder.ToString();
        }
    }

    public void Add(string line) => _lines.Enqueue(line);
}

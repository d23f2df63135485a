namespace Qhaigc.Functions.Batches;

/// <summary>
/// A temporary file a batch body is written to while it is checked, then read back to go upstream; the memory a batch
/// takes stays that of one request (docs/batches.md#limits). The file is removed when the spool is disposed (a process
/// that dies leaves it in the temporary folder).
/// </summary>
public sealed class BatchSpool : IAsyncDisposable
{
    private BatchSpool(FileStream file) => File = file;

    public FileStream File { get; }

    public long Length => File.Length;

    public static BatchSpool Create() => new(new FileStream(
        Path.Combine(Path.GetTempPath(), "qhaigc-batch-" + Guid.NewGuid().ToString("N") + ".json"),
        FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024, FileOptions.Asynchronous | FileOptions.DeleteOnClose));

    /// <summary>The whole file from its start, for reading; the spool stays the owner.</summary>
    public async ValueTask<Stream> RewindAsync(CancellationToken cancellationToken)
    {
        await File.FlushAsync(cancellationToken);
        File.Position = 0;
        return new ReadOnlyViewStream(File, leaveInnerOpen: true);
    }

    public ValueTask DisposeAsync() => File.DisposeAsync();
}

using Qhaigc.Functions.Ownership;
using Qhaigc.Functions.Tests.Infrastructure;

namespace Qhaigc.Functions.Tests.Ownership;

/// <summary>The objects table against a real Azurite: ownership, Anthropic's paging, versions, pending work.</summary>
public sealed class TableOwnedObjectStoreTests
{
    private const string Alice = "key_0000000000000alice";
    private const string Mallory = "key_000000000000mallory";

    [Fact]
    public async Task FindAsync_FindsTheOwnersObject_AndNothingForAnotherKeyOrABadId()
    {
        // Arrange
        var store = (await GatewayTestEnvironment.CreateAsync()).Objects;
        var batch = Owned(Alice, "msgbatch_01alice", DateTimeOffset.UtcNow);

        // Act
        var added = await store.AddAsync(batch, CancellationToken.None);
        var addedAgain = await store.AddAsync(batch, CancellationToken.None);

        // Assert
        Assert.True(added);
        Assert.False(addedAgain);
        var found = await store.FindAsync(Alice, OwnedKinds.Batch, batch.Id, CancellationToken.None);
        Assert.Equal(batch with { ETag = found!.ETag }, found);
        Assert.Null(await store.FindAsync(Mallory, OwnedKinds.Batch, batch.Id, CancellationToken.None));
        Assert.Null(await store.FindAsync(Alice, OwnedKinds.File, batch.Id, CancellationToken.None));
        Assert.Null(await store.FindAsync(Alice, OwnedKinds.Batch, "../" + batch.Id, CancellationToken.None));
        Assert.Null(await store.FindAsync(Alice, OwnedKinds.Batch, "msgbatch#x", CancellationToken.None));
        Assert.False(await store.RemoveAsync(Mallory, OwnedKinds.Batch, batch.Id, CancellationToken.None));
        Assert.NotNull(await store.FindAsync(Alice, OwnedKinds.Batch, batch.Id, CancellationToken.None));
    }

    [Fact]
    public async Task ListAsync_PagesNewestFirst_WithAnthropicsCursors()
    {
        // Arrange: seven of Alice's batches a second apart, one of Mallory's, one of Alice's files.
        var store = (await GatewayTestEnvironment.CreateAsync()).Objects;
        var start = DateTimeOffset.UtcNow;
        for (var i = 0; i < 7; i++)
        {
            await store.AddAsync(Owned(Alice, $"msgbatch_{i}", start.AddSeconds(i)), CancellationToken.None);
        }

        await store.AddAsync(Owned(Mallory, "msgbatch_m", start.AddSeconds(3.5)), CancellationToken.None);
        await store.AddAsync(Owned(Alice, "file_a", start.AddSeconds(3.5)) with { Kind = OwnedKinds.File }, CancellationToken.None);

        // Act
        var first = await store.ListAsync(Alice, OwnedKinds.Batch, 3, null, null, CancellationToken.None);
        var second = await store.ListAsync(Alice, OwnedKinds.Batch, 3, null, first!.LastId, CancellationToken.None);
        var last = await store.ListAsync(Alice, OwnedKinds.Batch, 3, null, second!.LastId, CancellationToken.None);
        var back = await store.ListAsync(Alice, OwnedKinds.Batch, 2, last!.FirstId, null, CancellationToken.None);
        var backToTop = await store.ListAsync(Alice, OwnedKinds.Batch, 5, "msgbatch_4", null, CancellationToken.None);
        var foreignCursor = await store.ListAsync(Alice, OwnedKinds.Batch, 3, null, "msgbatch_m", CancellationToken.None);

        // Assert
        Assert.Equal(["msgbatch_6", "msgbatch_5", "msgbatch_4"], first.Items.Select(static o => o.Id));
        Assert.True(first.HasMore);
        Assert.Equal(["msgbatch_3", "msgbatch_2", "msgbatch_1"], second.Items.Select(static o => o.Id));
        Assert.True(second.HasMore);
        Assert.Equal(["msgbatch_0"], last.Items.Select(static o => o.Id));
        Assert.False(last.HasMore);
        Assert.Equal(["msgbatch_2", "msgbatch_1"], back!.Items.Select(static o => o.Id));
        Assert.True(back.HasMore);
        Assert.Equal(["msgbatch_6", "msgbatch_5"], backToTop!.Items.Select(static o => o.Id));
        Assert.False(backToTop.HasMore);
        Assert.Null(foreignCursor);
    }

    [Fact]
    public async Task ReplaceAsync_ChangesStateOnce_WhenTwoWritersHoldTheSameVersion()
    {
        // Arrange
        var store = (await GatewayTestEnvironment.CreateAsync()).Objects;
        await store.AddAsync(Owned(Alice, "msgbatch_race", DateTimeOffset.UtcNow) with { Pending = true }, CancellationToken.None);
        var read = (await store.FindAsync(Alice, OwnedKinds.Batch, "msgbatch_race", CancellationToken.None))!;

        // Act
        var winner = await store.ReplaceAsync(read with { State = "{\"settled\":1}", Pending = false }, CancellationToken.None);
        var loser = await store.ReplaceAsync(read with { State = "{\"settled\":2}", Pending = false }, CancellationToken.None);

        // Assert
        Assert.NotNull(winner);
        Assert.Null(loser);
        var stored = await store.FindAsync(Alice, OwnedKinds.Batch, "msgbatch_race", CancellationToken.None);
        Assert.Equal("{\"settled\":1}", stored!.State);
        Assert.Equal(winner.ETag, stored.ETag);
        var listed = await store.ListAsync(Alice, OwnedKinds.Batch, 10, null, null, CancellationToken.None);
        Assert.Equal("{\"settled\":1}", Assert.Single(listed!.Items).State);
    }

    [Fact]
    public async Task PendingAsync_FindsEveryKeysPendingObjectsOfTheKind_AndRemoveAsyncDropsBothRows()
    {
        // Arrange
        var store = (await GatewayTestEnvironment.CreateAsync()).Objects;
        var now = DateTimeOffset.UtcNow;
        await store.AddAsync(Owned(Alice, "msgbatch_p1", now) with { Pending = true }, CancellationToken.None);
        await store.AddAsync(Owned(Mallory, "msgbatch_p2", now) with { Pending = true }, CancellationToken.None);
        await store.AddAsync(Owned(Alice, "msgbatch_done", now), CancellationToken.None);
        await store.AddAsync(Owned(Alice, "file_p", now) with { Kind = OwnedKinds.File, Pending = true }, CancellationToken.None);

        // Act
        var pending = await store.PendingAsync(OwnedKinds.Batch, CancellationToken.None).Select(static o => o.Id).Order().ToListAsync();
        var removed = await store.RemoveAsync(Alice, OwnedKinds.Batch, "msgbatch_p1", CancellationToken.None);

        // Assert
        Assert.Equal(["msgbatch_p1", "msgbatch_p2"], pending);
        Assert.True(removed);
        Assert.Equal(["msgbatch_done"], await store.OwnedByAsync(Alice, OwnedKinds.Batch, CancellationToken.None).Select(static o => o.Id).ToListAsync());
        Assert.Equal(["msgbatch_p2"], await store.PendingAsync(OwnedKinds.Batch, CancellationToken.None).Select(static o => o.Id).ToListAsync());
    }

    private static OwnedObject Owned(string owner, string id, DateTimeOffset createdAt) => new()
    {
        Kind = OwnedKinds.Batch,
        Id = id,
        OwnerKeyId = owner,
        Upstream = "anthropic",
        UpstreamId = id,
        CreatedAt = createdAt,
        State = "{\"processing_status\":\"in_progress\"}",
    };
}

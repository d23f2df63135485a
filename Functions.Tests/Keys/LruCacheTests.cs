using Qhaigc.Functions.Keys;

namespace Qhaigc.Functions.Tests.Keys;

public sealed class LruCacheTests
{
    [Fact]
    public void Set_DropsTheLeastRecentlyUsedEntry_WhenFull()
    {
        // Arrange
        var cache = new LruCache<string, string>(2);
        cache.Set("a", "1");
        cache.Set("b", "2");
        cache.TryGet("a", out _);

        // Act
        cache.Set("c", "3");

        // Assert
        Assert.Equal(2, cache.Count);
        Assert.True(cache.TryGet("a", out _));
        Assert.False(cache.TryGet("b", out _));
        Assert.True(cache.TryGet("c", out _));
    }

    [Fact]
    public void TryReplaceAndTryRemove_LeaveTheEntry_WhenItIsNoLongerTheExpectedOne()
    {
        // Arrange
        var cache = new LruCache<string, string>(4);
        var first = "first";
        var second = "second";
        cache.Set("k", first);
        cache.Set("k", second);

        // Act
        var replaced = cache.TryReplace("k", first, "third");
        var removed = cache.TryRemove("k", first);

        // Assert
        Assert.False(replaced);
        Assert.False(removed);
        Assert.True(cache.TryGet("k", out var value));
        Assert.Same(second, value);
    }
}

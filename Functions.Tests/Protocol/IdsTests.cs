using System.Collections.Concurrent;
using Qhaigc.Functions.Protocol;

namespace Qhaigc.Functions.Tests.Protocol;

public sealed class IdsTests
{
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    [Theory]
    [InlineData("req_", 24)]
    [InlineData("msg_", 24)]
    [InlineData("chatcmpl-", 30)]
    public void New_IsThePrefixAndBase62Characters(string prefix, int length)
    {
        // Act
        var id = Ids.New(prefix, length);

        // Assert
        Assert.StartsWith(prefix, id, StringComparison.Ordinal);
        Assert.Equal(prefix.Length + length, id.Length);
        Assert.All(id[prefix.Length..], static c => Assert.Contains(c, Base62));
    }

    [Fact]
    public void New_UsesEveryCharacterAboutEquallyOften()
    {
        // Arrange: 3,000 ids of 24 characters, about 1,161 of each of the 62 characters.
        var counts = new Dictionary<char, int>();

        // Act
        for (var i = 0; i < 3000; i++)
        {
            foreach (var c in Ids.NewRequestId().AsSpan(4))
            {
                counts[c] = counts.GetValueOrDefault(c) + 1;
            }
        }

        // Assert: all 62 appear, none far from the mean (more than 8 standard deviations would be a biased mapping).
        Assert.Equal(62, counts.Count);
        Assert.All(counts.Values, static n => Assert.InRange(n, 900, 1420));
    }

    [Fact]
    public void NewRequestId_IsUnique()
    {
        // Act
        var ids = Enumerable.Range(0, 10_000).Select(static _ => Ids.NewRequestId()).ToHashSet(StringComparer.Ordinal);

        // Assert
        Assert.Equal(10_000, ids.Count);
    }

    [Fact]
    public void New_StaysUniqueAcrossThreadsAndRefills()
    {
        // Arrange: each thread draws its random bytes 256 at a time; ids of 300 characters need more than one draw,
        // and eight threads draw at once.
        var longIds = new ConcurrentBag<string>();
        var requestIds = new ConcurrentBag<string>();

        // Act
        Parallel.For(0, 8_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            if (i % 4 == 0)
            {
                longIds.Add(Ids.New("x_", 300));
            }
            else
            {
                requestIds.Add(Ids.NewRequestId());
            }
        });

        // Assert
        Assert.Equal(2_000, longIds.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(6_000, requestIds.Distinct(StringComparer.Ordinal).Count());
        Assert.All(longIds, static id => Assert.Equal(302, id.Length));
        Assert.All(longIds, static id => Assert.All(id[2..], static c => Assert.Contains(c, Base62)));
    }
}

using Microsoft.Extensions.Time.Testing;

namespace Qhaigc.Functions.Tests.TestDoubles;

/// <summary>
/// Moves a <see cref="FakeTimeProvider"/> forward step by step until a task completes, letting the code under test
/// run between steps: for code whose timers are armed on other threads, at moments a test cannot pinpoint.
/// </summary>
public static class FakeTimeDriver
{
    public static async Task<T> AdvanceUntilAsync<T>(this FakeTimeProvider time, Task<T> task, TimeSpan step, int maxSteps = 2000)
    {
        await AdvanceUntilAsync(time, () => task.IsCompleted, step, maxSteps);
        return await task;
    }

    /// <summary>Advances until <paramref name="done"/> holds; throws if it does not within <paramref name="maxSteps"/> steps.</summary>
    public static async Task AdvanceUntilAsync(this FakeTimeProvider time, Func<bool> done, TimeSpan step, int maxSteps = 2000)
    {
        for (var i = 0; !done(); i++)
        {
            if (i == maxSteps)
            {
                throw new TimeoutException($"Not done after {maxSteps} steps of {step}.");
            }

            time.Advance(step);
            await Task.Delay(2);
        }
    }
}

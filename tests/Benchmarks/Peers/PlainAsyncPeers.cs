using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace TtaActors.Benchmarks.Peers;

/// <summary>The floor: plain async methods calling the steps directly, one Activity per step.</summary>
public static class PlainAsyncPeers
{
    public static async ValueTask<int> SequenceAsync(int input, int steps)
    {
        var value = input;
        for (var i = 0; i < steps; i++) value = await StepAsync(value, "step").ConfigureAwait(false);
        return value;
    }

    public static async Task<int[]> FanOutAsync(int input, int branches)
    {
        var pending = new Task<int>[branches];
        for (var i = 0; i < branches; i++) pending[i] = StepAsync(input, "branch").AsTask();
        return await Task.WhenAll(pending).ConfigureAwait(false);
    }

    /// <summary>Retries a step that fails its first <paramref name="failures"/> attempts; one Activity per attempt.</summary>
    public static async ValueTask<int> RetryAsync(int input, int failures, int maxRetries)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var span = PeerTelemetry.Source.StartActivity("attempt");
            try
            {
                return await FlakyStepAsync(input, attempt < failures).ConfigureAwait(false);
            }
            catch (InvalidOperationException) when (attempt < maxRetries)
            {
                span?.SetStatus(ActivityStatusCode.Error);
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ValueTask<int> StepAsync(int value, string name)
    {
        using var span = PeerTelemetry.Source.StartActivity(name);
        return new ValueTask<int>(value + 1);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ValueTask<int> FlakyStepAsync(int value, bool fail) =>
        fail ? throw new InvalidOperationException("transient failure") : new ValueTask<int>(value + 1);
}

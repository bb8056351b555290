using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace TtaActors.Tests.Llm.RateLimits;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that reports every timer created on it, so a spec can wait until a wait has begun
/// before advancing virtual time past it (advancing first would leave a later timer waiting for another advance).
/// </summary>
public sealed class TimerSignallingTimeProvider : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();

    public TimerSignallingTimeProvider() : base(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero))
    {
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _timers.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>Waits (in real time, bounded) until a timer due after <paramref name="due"/> has been created.</summary>
    public async Task WaitForTimer(TimeSpan due)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            while (await _timers.Reader.ReadAsync(timeout.Token) != due)
            {
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No timer due after {due} was created.");
        }
    }
}

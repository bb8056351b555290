namespace TtaActors.Actors.Execution;

/// <summary>
/// The runs of one graph in flight: they end when the graph stops, and those with the graph's default deadline share
/// one timer instead of a timer each.
/// </summary>
/// <remarks>
/// <para>Runs with the default deadline are kept in the order they started, which is also the order of their deadlines
/// (the same length from a monotonic clock): the one timer is due at the first one's deadline, and when it fires, it ends
/// every run whose deadline has passed and is due again at the next one's. A run that finishes leaves the list and is
/// not waited for; the timer may then fire early for it, find nothing due and wait for the next. A run with a deadline
/// of its own (<see cref="RunOptions.Timeout"/> other than the default) keeps its own timer and is listed only to end with
/// the graph.</para>
/// <para>Every operation is a few pointer moves under one lock; runs end (their error, their cancellation, their watchers
/// told) outside it.</para>
/// </remarks>
internal sealed class RunsInFlight
{
    /// <summary>The shortest wait of the shared timer for the next deadline (see <see cref="Fire"/>).</summary>
    private static readonly TimeSpan MinimumDue = TimeSpan.FromMilliseconds(1);

    private readonly object _gate = new();
    private readonly TimeProvider _clock;
    private readonly long _sharedLength;
    private ITimer? _timer;
    private bool _armed;
    private bool _closed;
    private RunLifetime? _sharedFirst;
    private RunLifetime? _sharedLast;
    private RunLifetime? _othersFirst;

    /// <param name="clock">The clock of the deadlines (its timestamps and its timers).</param>
    /// <param name="sharedDeadline">The graph's default deadline; null when runs have none by default.</param>
    public RunsInFlight(TimeProvider clock, TimeSpan? sharedDeadline)
    {
        _clock = clock;
        SharedDeadline = sharedDeadline;
        if (sharedDeadline is { } length) _sharedLength = (long)(length.Ticks * (double)clock.TimestampFrequency / TimeSpan.TicksPerSecond);
    }

    /// <summary>The deadline the runs of the shared timer have; null when there is none.</summary>
    public TimeSpan? SharedDeadline { get; }

    /// <summary>The timestamp (of the clock) at which a run with the shared deadline starting now ends.</summary>
    public long SharedDeadlineFromNow() => _clock.GetTimestamp() + _sharedLength;

    /// <summary>
    /// Lists a run that has just started; false when the graph has stopped meanwhile (the caller then ends the run). A run
    /// with <see cref="RunLifetime.SharesDeadline"/> is ended by the shared timer at its deadline.
    /// </summary>
    public bool Add(RunLifetime run)
    {
        TimeSpan? arm = null;
        lock (_gate)
        {
            if (_closed) return false;
            if (run.SharesDeadline)
            {
                run.ListPrevious = _sharedLast;
                if (_sharedLast is null) _sharedFirst = run;
                else _sharedLast.ListNext = run;
                _sharedLast = run;
                if (!_armed)
                {
                    _armed = true;
                    arm = SharedDeadline!.Value;
                }
            }
            else
            {
                run.ListNext = _othersFirst;
                if (_othersFirst is not null) _othersFirst.ListPrevious = run;
                _othersFirst = run;
            }
            run.Listed = true;
            if (arm is { } due) Arm(due);
        }
        return true;
    }

    /// <summary>Takes a run off the list (it answered its caller); nothing if it is no longer listed.</summary>
    public void Remove(RunLifetime run)
    {
        lock (_gate)
        {
            if (run.Listed) Unlink(run);
        }
    }

    /// <summary>
    /// Ends every listed run with <see cref="WorkflowGraphStoppedException"/> and refuses runs from now on; the shared timer
    /// is disposed.
    /// </summary>
    public void Close()
    {
        var ending = new List<RunLifetime>();
        lock (_gate)
        {
            if (_closed) return;
            _closed = true;
            _armed = false;
            while (_sharedFirst is { } shared)
            {
                Unlink(shared);
                ending.Add(shared);
            }
            while (_othersFirst is { } other)
            {
                Unlink(other);
                ending.Add(other);
            }
            _timer?.Dispose();
        }
        foreach (var run in ending) run.StopWithGraph();
    }

    /// <summary>Under the lock: the shared timer due in <paramref name="due"/> (made on first use).</summary>
    private void Arm(TimeSpan due)
    {
        if (_timer is null) _timer = _clock.CreateTimer(static state => ((RunsInFlight)state!).Fire(), this, due, Timeout.InfiniteTimeSpan);
        else _timer.Change(due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The shared timer fired: ends every run whose deadline has passed, and waits for the next one.</summary>
    private void Fire()
    {
        List<RunLifetime>? expired = null;
        lock (_gate)
        {
            if (_closed) return;
            var now = _clock.GetTimestamp();
            while (_sharedFirst is { } first && first.DeadlineTimestamp <= now)
            {
                Unlink(first);
                (expired ??= []).Add(first);
            }
            // At least a millisecond: a system timer may fire a little before the timestamp it was due at, and a due time
            // rounded down to zero would fire again at once, over and over until then.
            if (_sharedFirst is { } next) Arm(TimeSpan.FromTicks(Math.Max(_clock.GetElapsedTime(now, next.DeadlineTimestamp).Ticks, MinimumDue.Ticks)));
            else _armed = false;
        }
        if (expired is null) return;
        foreach (var run in expired) run.Expire();
    }

    private void Unlink(RunLifetime run)
    {
        var previous = run.ListPrevious;
        var next = run.ListNext;
        if (previous is not null) previous.ListNext = next;
        else if (run.SharesDeadline) _sharedFirst = next;
        else _othersFirst = next;
        if (next is not null) next.ListPrevious = previous;
        else if (run.SharesDeadline) _sharedLast = previous;
        run.ListPrevious = null;
        run.ListNext = null;
        run.Listed = false;
    }
}

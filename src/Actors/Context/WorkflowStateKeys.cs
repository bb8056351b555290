namespace TtaActors.Actors.Context;

/// <summary>
/// Keys of <see cref="WorkflowContext.State"/> that primitives of the catalog write, named as in the original library
/// so that code reading them carries over.
/// </summary>
public static class WorkflowStateKeys
{
    /// <summary>Number of Timeout expiries seen by this context (<see cref="int"/>).</summary>
    public const string TimeoutCount = "timeout_count";

    /// <summary>One <see cref="TimeoutRecord"/> per expiry, oldest first (<c>ImmutableList&lt;TimeoutRecord&gt;</c>).</summary>
    public const string TimeoutHistory = "timeout_history";

    /// <summary>Number of Cache lookups answered from the cache (<see cref="int"/>).</summary>
    public const string CacheHits = "cache_hits";

    /// <summary>Number of Cache lookups that ran the inner primitive (<see cref="int"/>).</summary>
    public const string CacheMisses = "cache_misses";

    /// <summary>
    /// The failure of a Saga's compensation (<c>WorkflowFailure</c>); the run still fails with the forward error.
    /// </summary>
    public const string SagaCompensationError = "saga_compensation_error";

    /// <summary>Adds one to an integer counter in <paramref name="context"/>'s state.</summary>
    internal static WorkflowContext Increment(this WorkflowContext context, string key) =>
        context.WithState(key, (context.State.TryGetValue(key, out var value) && value is int count ? count : 0) + 1);
}

/// <summary>One expiry of a Timeout, as recorded in <see cref="WorkflowStateKeys.TimeoutHistory"/>.</summary>
public sealed record TimeoutRecord(string Primitive, TimeSpan Timeout, bool HadFallback, DateTimeOffset At);

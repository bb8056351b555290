using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Primitives;

/// <summary>Hit and miss counts of a <see cref="CachePrimitive"/>.</summary>
/// <param name="HitRate">Hits over lookups, from 0 to 1; 0 before the first lookup.</param>
public sealed record CacheStatistics(long Hits, long Misses, long Expirations, double HitRate)
{
    public long Lookups => Hits + Misses;
}

/// <summary>
/// Answers from its backend when it holds a result for the run's key, else runs the inner primitive and stores its
/// output for the time to live. Failures are never stored, and neither are null outputs (so a null is a miss next
/// time, as in the original library). Hits and misses are counted on the definition (<see cref="Statistics"/>), in the
/// context state (<see cref="WorkflowStateKeys.CacheHits"/>, <see cref="WorkflowStateKeys.CacheMisses"/>), as metrics
/// (<c>cache_hits_total</c>, <c>cache_misses_total</c>) and on the span (<c>cache.hit</c>).
/// </summary>
/// <remarks>The backend belongs to the definition: every graph materialised from it shares the cached results.</remarks>
public sealed class CachePrimitive : Primitive
{
    private long _hits;
    private long _misses;
    private long _expirations;

    /// <param name="inner">The primitive whose results are cached.</param>
    /// <param name="timeToLive">How long a stored result answers lookups.</param>
    /// <param name="keyFunction">The cache key of an input in a context; by default the input as JSON.</param>
    /// <param name="backend">Where results are kept; by default an <see cref="InMemoryCacheBackend"/> of 1000 entries.</param>
    public CachePrimitive(Primitive inner, TimeSpan timeToLive, Func<object?, WorkflowContext, string>? keyFunction = null,
        ICacheBackend? backend = null, string? name = null) : base(name)
    {
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
        if (timeToLive <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(timeToLive), timeToLive, "A Cache needs a time to live greater than zero.");
        TimeToLive = timeToLive;
        KeyFunction = keyFunction ?? DefaultKey;
        Backend = backend ?? new InMemoryCacheBackend();
    }

    public Primitive Inner { get; }
    public TimeSpan TimeToLive { get; }
    public Func<object?, WorkflowContext, string> KeyFunction { get; }
    public ICacheBackend Backend { get; }
    public override IReadOnlyList<Primitive> Children => [Inner];
    public override string TypeName => "CachePrimitive";

    public CacheStatistics Statistics
    {
        get
        {
            var hits = Interlocked.Read(ref _hits);
            var misses = Interlocked.Read(ref _misses);
            var lookups = hits + misses;
            return new CacheStatistics(hits, misses, Interlocked.Read(ref _expirations), lookups == 0 ? 0 : (double)hits / lookups);
        }
    }

    /// <summary>Drops every cached result (the statistics are kept).</summary>
    public ValueTask ClearAsync(CancellationToken cancellation = default) => Backend.ClearAsync(cancellation);

    internal void CountHit() => Interlocked.Increment(ref _hits);

    internal void CountMiss(bool expired)
    {
        Interlocked.Increment(ref _misses);
        if (expired) Interlocked.Increment(ref _expirations);
    }

    internal override Props CreateProps(PrimitiveNode node) => CacheActor.Props(this, node);

    // The type is part of the key so that equal-looking inputs of different types never share an entry.
    private static string DefaultKey(object? input, WorkflowContext context) =>
        input is null ? "null" : $"{input.GetType().FullName}:{JsonSerializer.Serialize(input, input.GetType())}";
}

internal sealed class CacheActor : UntypedActor
{
    private readonly CachePrimitive _definition;
    private readonly PrimitiveNode _node;
    private readonly IActorRef _inner;
    private readonly Dictionary<long, Run> _pending = new();

    /// <summary>Runs waiting for an asynchronous backend lookup.</summary>
    private readonly HashSet<Run> _lookingUp = new();

    private readonly ILoggingAdapter _log = Context.GetLogger();

    public CacheActor(CachePrimitive definition, PrimitiveNode node)
    {
        _definition = definition;
        _node = node;
        _inner = Context.ActorOf(definition.Inner.CreateProps(node.Child(definition.Inner, "")), "inner");
    }

    public static Props Props(CachePrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new CacheActor(definition, node));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case WorkflowEnvelope envelope:
                Look(new Run(_node, envelope));
                break;
            case LookupDone done when _lookingUp.Remove(done.Run):
                if (done.Error is not null) BackendFailed("lookup", done.Error, "the run goes on as a miss");
                OnLookup(done.Run, done.Lookup);
                break;
            case PrimitiveSucceeded done when _pending.Remove(done.CallId, out var run):
                if (done.Output is not null) Store(run.Key, done.Output);
                run.Succeed(done.Output, run.Context.AbsorbRecords(done.Context, run.InnerContext!), Self);
                break;
            case PrimitiveFailed failed when _pending.Remove(failed.CallId, out var run):
                run.Fail(failed.Failure, Self);
                break;
            case StoreFailed storeFailed:
                BackendFailed("store", storeFailed.Error, "the result is not cached");
                break;
            case PrimitiveResult:
            case LookupDone:
                break; // an answer for a run that has already finished
            default:
                Unhandled(message);
                break;
        }
    }

    private void Look(Run run)
    {
        if (RunGuard.Expired(run.Inbound, Context.System.Scheduler) is { } expired)
        {
            run.Fail(expired, Self);
            return;
        }
        try
        {
            run.Key = _definition.KeyFunction(run.Inbound.Payload, run.Context)
                      ?? throw new InvalidOperationException("The key function returned null instead of a cache key.");
        }
        catch (Exception error)
        {
            run.Fail(new InvalidOperationException(
                $"Cache '{_node.Path}' could not compute the cache key of its input: {error.Message} " +
                "Give the Cache a key function that handles this input.", error), Self);
            return;
        }

        ValueTask<CacheLookup> lookup;
        try
        {
            lookup = _definition.Backend.GetAsync(run.Key, run.Inbound.Cancellation);
        }
        catch (Exception error)
        {
            BackendFailed("lookup", error, "the run goes on as a miss");
            OnLookup(run, CacheLookup.Miss);
            return;
        }
        if (lookup.IsCompletedSuccessfully)
        {
            OnLookup(run, lookup.Result);
            return;
        }
        _lookingUp.Add(run);
        lookup.AsTask().ContinueWith(
            static (task, state) =>
            {
                var (pending, self) = ((Run, IActorRef))state!;
                self.Tell(task.IsCompletedSuccessfully
                    ? new LookupDone(pending, task.Result, null)
                    : new LookupDone(pending, CacheLookup.Miss, task.Exception?.GetBaseException() ?? new OperationCanceledException()));
            },
            (run, Self),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private void OnLookup(Run run, CacheLookup lookup)
    {
        var hit = lookup is { Outcome: CacheLookupOutcome.Hit, Value: not null };
        CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.CacheHit, hit);
        CatalogTelemetry.RecordCacheLookup(_node, run.Context, hit);
        if (hit)
        {
            _definition.CountHit();
            run.Succeed(lookup.Value, run.Context.Increment(WorkflowStateKeys.CacheHits), Self);
            return;
        }

        _definition.CountMiss(lookup.Outcome == CacheLookupOutcome.Expired);
        run.Context = run.Context.Increment(WorkflowStateKeys.CacheMisses);
        if (RunGuard.Expired(run.Inbound, Context.System.Scheduler) is { } expired)
        {
            run.Fail(expired, Self);
            return;
        }
        var callId = WorkflowEnvelope.NextCallId();
        run.InnerContext = run.Context.CreateChild();
        _pending.Add(callId, run);
        _inner.Tell(run.ChildEnvelope(callId, run.Inbound.Payload, run.InnerContext, Self));
    }

    private void Store(string key, object output)
    {
        ValueTask stored;
        try
        {
            stored = _definition.Backend.SetAsync(key, output, _definition.TimeToLive);
        }
        catch (Exception error)
        {
            BackendFailed("store", error, "the result is not cached");
            return;
        }
        if (stored.IsCompletedSuccessfully) return;
        // The answer does not wait for a slow backend; a failed store is only reported.
        var self = Self;
        stored.AsTask().ContinueWith(
            task => self.Tell(new StoreFailed(task.Exception?.GetBaseException() ?? new OperationCanceledException())),
            CancellationToken.None,
            TaskContinuationOptions.NotOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    // Keys are built from user input and may hold anything, so they are never logged.
    private void BackendFailed(string operation, Exception error, string consequence) =>
        _log.Warning("Cache '{0}': the {1} backend failed a {2} ({3}: {4}); {5}.",
            _node.Path, _definition.Backend.GetType().Name, operation, error.GetType().Name, error.Message, consequence);

    protected override void PreRestart(Exception reason, object message)
    {
        RunGuard.FailAll(_pending.Values.Concat(_lookingUp), reason, Self);
        _pending.Clear();
        _lookingUp.Clear();
        base.PreRestart(reason, message);
    }

    private sealed record LookupDone(Run Run, CacheLookup Lookup, Exception? Error);

    private sealed record StoreFailed(Exception Error);

    private sealed class Run(PrimitiveNode node, WorkflowEnvelope inbound) : PrimitiveExecution(node, inbound)
    {
        public string Key = "";
        public WorkflowContext? InnerContext;
    }
}

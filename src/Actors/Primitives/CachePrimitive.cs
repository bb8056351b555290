using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Primitives;

/// <summary>Hit and miss counts of a <see cref="CachePrimitive"/>.</summary>
/// <param name="HitRate">Hits over lookups, from 0 to 1; 0 before the first lookup.</param>
/// <param name="Hits">Lookups answered from the backend.</param>
/// <param name="Misses">Lookups that ran the inner primitive (expired entries included).</param>
/// <param name="Expirations">Misses whose entry had passed its time to live.</param>
public sealed record CacheStatistics(long Hits, long Misses, long Expirations, double HitRate)
{
    /// <summary>Hits plus misses.</summary>
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
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeToLive"/> is not greater than zero.</exception>
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

    /// <summary>The primitive whose results are cached.</summary>
    public Primitive Inner { get; }
    /// <summary>How long a stored result answers lookups.</summary>
    public TimeSpan TimeToLive { get; }
    /// <summary>The cache key of an input in a context.</summary>
    public Func<object?, WorkflowContext, string> KeyFunction { get; }
    /// <summary>Where results are kept; shared by every graph materialised from this definition.</summary>
    public ICacheBackend Backend { get; }
    /// <inheritdoc/>
    public override IReadOnlyList<Primitive> Children => [Inner];
    /// <inheritdoc/>
    public override string TypeName => "CachePrimitive";

    /// <summary>The hit and miss counts so far, over every graph materialised from this definition.</summary>
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

    internal override bool SharesStateAcrossRuns => true;

    internal override Props CreateProps(PrimitiveNode node) => CacheActor.Props(this, node);

    // The type is part of the key so that equal-looking inputs of different types never share an entry.
    private static string DefaultKey(object? input, WorkflowContext context) =>
        input is null ? "null" : $"{input.GetType().FullName}:{JsonSerializer.Serialize(input, input.GetType())}";
}

internal sealed class CacheActor : CompositeActor<CacheActor.Run>
{
    private readonly CachePrimitive _definition;
    private readonly IActorRef _inner;

    public CacheActor(CachePrimitive definition, PrimitiveNode node) : base(node)
    {
        _definition = definition;
        _inner = Context.ActorOf(definition.Inner.CreateProps(node.Child(definition.Inner, "")), "inner");
    }

    public static Props Props(CachePrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new CacheActor(definition, node));

    protected override Run CreateRun(WorkflowEnvelope envelope) => new(Node, envelope);

    protected override void OnStart(Run run)
    {
        try
        {
            run.Key = _definition.KeyFunction(run.Inbound.Payload, run.Context)
                      ?? throw new InvalidOperationException("The key function returned null instead of a cache key.");
        }
        catch (Exception error)
        {
            Fail(run, new InvalidOperationException(
                $"Cache '{Node.Path}' could not compute the cache key of its input: {error.Message} " +
                "Give the Cache a key function that handles this input.", error));
            return;
        }

        ValueTask<CacheLookup> lookup;
        try
        {
            // The backend works under the run's token: it fires at the run's deadline, and a lookup still pending then
            // is answered by the deadline error like everything else the run holds.
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

    protected override void OnSignal(Run run, RunSignal signal)
    {
        var done = (LookupDone)signal;
        if (done.Error is not null) BackendFailed("lookup", done.Error, "the run goes on as a miss");
        OnLookup(run, done.Lookup);
    }

    protected override void OnChildSucceeded(Run run, int child, PrimitiveSucceeded answer)
    {
        if (answer.Output is not null) Store(run, answer.Output);
        Succeed(run, answer.Output, run.Context.AbsorbRecords(answer.Context, run.InnerContext!));
    }

    protected override void OnChildFailed(Run run, int child, PrimitiveFailed answer) => Fail(run, answer.Failure);

    protected override void OnCommand(object message)
    {
        if (message is StoreFailed storeFailed) BackendFailed("store", storeFailed.Error, "the result is not cached");
        else Unhandled(message);
    }

    private void OnLookup(Run run, CacheLookup lookup)
    {
        var hit = lookup is { Outcome: CacheLookupOutcome.Hit, Value: not null };
        CatalogTelemetry.Tag(run, TelemetryNames.Catalog.Attributes.CacheHit, hit);
        CatalogTelemetry.RecordCacheLookup(Node, run.Context, hit);
        if (hit)
        {
            _definition.CountHit();
            Succeed(run, lookup.Value, run.Context.Increment(WorkflowStateKeys.CacheHits));
            return;
        }

        _definition.CountMiss(lookup.Outcome == CacheLookupOutcome.Expired);
        run.Context = run.Context.Increment(WorkflowStateKeys.CacheMisses);
        if (!MayGoOn(run)) return;
        run.InnerContext = run.Context.CreateChild();
        Dispatch(run, 0, _inner, run.Inbound.Payload, run.InnerContext);
    }

    private void Store(Run run, object output)
    {
        ValueTask stored;
        try
        {
            stored = _definition.Backend.SetAsync(run.Key, output, _definition.TimeToLive, run.Inbound.Cancellation);
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
        Log.Warning("Cache '{0}': the {1} backend failed a {2} ({3}: {4}); {5}.",
            Node.Path, _definition.Backend.GetType().Name, operation, error.GetType().Name, error.Message, consequence);

    private sealed record LookupDone(Run Pending, CacheLookup Lookup, Exception? Error) : RunSignal(Pending);

    private sealed record StoreFailed(Exception Error);

    internal sealed class Run(PrimitiveNode node, WorkflowEnvelope inbound) : CompositeRun(node, inbound)
    {
        public string Key = "";
        public WorkflowContext? InnerContext;
    }
}

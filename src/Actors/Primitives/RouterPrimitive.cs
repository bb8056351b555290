using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;

namespace TtaActors.Actors.Primitives;

/// <summary>Raised when a router's selector picks a key that has no route and there is no default route.</summary>
public sealed class RouteNotFoundException(string key, IReadOnlyCollection<string> availableRoutes)
    : KeyNotFoundException($"No route for key '{key}' and no default route. Available routes: {string.Join(", ", availableRoutes)}.")
{
    /// <summary>The key the selector returned.</summary>
    public string Key { get; } = key;
    /// <summary>The keys the router has routes for.</summary>
    public IReadOnlyCollection<string> AvailableRoutes { get; } = availableRoutes;
}

/// <summary>
/// Sends the input to the route its selector picks; an unknown key falls back to the default route. Each
/// decision is appended to the context's routing history.
/// </summary>
public sealed class RouterPrimitive : Primitive
{
    /// <param name="routes">The routes by key, at least one.</param>
    /// <param name="selector">Picks a route key from the input and the context.</param>
    /// <param name="defaultRoute">The route taken when the selector's key has none; without one an unknown key fails with <see cref="RouteNotFoundException"/>.</param>
    /// <param name="name">The name in spans, metrics and failure paths; the type name when null.</param>
    /// <exception cref="ArgumentException">No routes, a null route, or a default route that is not one of the routes.</exception>
    public RouterPrimitive(
        IReadOnlyDictionary<string, Primitive> routes,
        Func<object?, WorkflowContext, string> selector,
        string? defaultRoute = null,
        string? name = null) : base(name)
    {
        ArgumentNullException.ThrowIfNull(routes);
        ArgumentNullException.ThrowIfNull(selector);
        if (routes.Count == 0) throw new ArgumentException("A Router needs at least one route; it was given none.", nameof(routes));
        if (defaultRoute is not null && !routes.ContainsKey(defaultRoute))
            throw new ArgumentException(
                $"The default route '{defaultRoute}' is not one of the routes ({string.Join(", ", routes.Keys)}).", nameof(defaultRoute));
        Routes = routes.ToDictionary(r => r.Key, r => r.Value ?? throw new ArgumentException($"Route '{r.Key}' is null.", nameof(routes)));
        RouteKeys = Routes.Keys.ToArray();
        Selector = selector;
        DefaultRoute = defaultRoute;
    }

    /// <summary>The routes by key.</summary>
    public IReadOnlyDictionary<string, Primitive> Routes { get; }
    /// <summary>The route keys, in the order given.</summary>
    public IReadOnlyList<string> RouteKeys { get; }
    /// <summary>Picks a route key from the input and the context.</summary>
    public Func<object?, WorkflowContext, string> Selector { get; }
    /// <summary>The route taken for an unknown key; null for none.</summary>
    public string? DefaultRoute { get; }
    /// <inheritdoc/>
    public override IReadOnlyList<Primitive> Children => RouteKeys.Select(k => Routes[k]).ToArray();
    /// <inheritdoc/>
    public override string TypeName => "RouterPrimitive";

    internal override Props CreateProps(PrimitiveNode node) => RouterActor.Props(this, node);
}

internal sealed class RouterActor : CompositeActor<RouterActor.Run>
{
    private readonly RouterPrimitive _definition;
    private readonly Dictionary<string, IActorRef> _routes = new();

    public RouterActor(RouterPrimitive definition, PrimitiveNode node) : base(node)
    {
        _definition = definition;
        for (var i = 0; i < definition.RouteKeys.Count; i++)
        {
            var key = definition.RouteKeys[i];
            var route = definition.Routes[key];
            _routes[key] = Context.ActorOf(route.CreateProps(node.Child(route, $"[{key}]")), $"route-{i}");
        }
    }

    public static Props Props(RouterPrimitive definition, PrimitiveNode node) =>
        Akka.Actor.Props.Create(() => new RouterActor(definition, node));

    protected override Run CreateRun(WorkflowEnvelope envelope) => new(Node, envelope);

    protected override void OnStart(Run run)
    {
        string key;
        try
        {
            key = _definition.Selector(run.Inbound.Payload, run.Context)
                  ?? throw new InvalidOperationException("The router's selector returned null instead of a route key.");
        }
        catch (Exception error)
        {
            Fail(run, error);
            return;
        }

        var usedDefault = false;
        if (!_routes.TryGetValue(key, out var target))
        {
            if (_definition.DefaultRoute is null)
            {
                Fail(run, new RouteNotFoundException(key, _definition.RouteKeys.ToArray()));
                return;
            }
            usedDefault = true;
            key = _definition.DefaultRoute;
            target = _routes[key];
        }

        run.Context = run.Context.WithRoutingDecision(new RoutingDecision(key, usedDefault, Context.System.Scheduler.Now));
        if (run.Span is { IsAllDataRequested: true } span)
        {
            span.SetTag(TelemetryNames.Attributes.RouterRoute, key);
            span.SetTag(TelemetryNames.Attributes.RouterUsedDefault, usedDefault);
        }
        run.RouteContext = run.Context.CreateChild();
        Dispatch(run, 0, target, run.Inbound.Payload, run.RouteContext);
    }

    protected override void OnChildSucceeded(Run run, int child, PrimitiveSucceeded answer) =>
        Succeed(run, answer.Output, run.Context.AbsorbRecords(answer.Context, run.RouteContext!));

    protected override void OnChildFailed(Run run, int child, PrimitiveFailed answer) => Fail(run, answer.Failure);

    internal sealed class Run(PrimitiveNode node, WorkflowEnvelope inbound) : CompositeRun(node, inbound)
    {
        public WorkflowContext? RouteContext;
    }
}

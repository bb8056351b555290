using Akka.Actor;
using TtaActors.Actors.Context;
using TtaActors.Actors.Execution;
using TtaActors.Actors.Sessions;
using TtaActors.Runtime.Runs;
using TtaActors.Telemetry;

namespace TtaActors.Tests.Support;

/// <summary>
/// Persona sessions for specs that need a run service without a cluster: one actor per session under one parent actor,
/// state kept in memory only. Production code has one implementation, the sharded persistent sessions
/// (<c>ShardedPersonaSessions</c>); specs of the HTTP API and the run service use this one to stay fast.
/// </summary>
public sealed class InMemoryPersonaSessions : IPersonaSessions
{
    /// <summary>The name of the actor that holds the sessions.</summary>
    public const string ActorName = "persona-sessions-in-memory";
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);
    private readonly IActorRef _sessions;

    /// <summary>Starts the sessions actor on <paramref name="system"/>.</summary>
    public InMemoryPersonaSessions(ActorSystem system) => _sessions = system.ActorOf(InMemorySessionsActor.Props(), ActorName);

    /// <inheritdoc/>
    public Task<SessionView> GetAsync(string sessionId, CancellationToken cancellation = default) =>
        Ask<SessionView>(new InMemorySessionCommands.Get(CheckId(sessionId)), cancellation);

    /// <inheritdoc/>
    public Task<SessionView> SwitchPersonaAsync(string sessionId, string persona, string? chatMode, CancellationToken cancellation = default) =>
        Ask<SessionView>(new InMemorySessionCommands.SwitchPersona(CheckId(sessionId), CheckNames(persona, chatMode), chatMode), cancellation);

    /// <inheritdoc/>
    public Task<WorkflowContext> BeginRunAsync(string sessionId, string workflow, RunId runId, WorkflowContext context,
        CancellationToken cancellation = default) =>
        Ask<WorkflowContext>(new InMemorySessionCommands.BeginRun(CheckId(sessionId), workflow, runId, context), cancellation);

    /// <inheritdoc/>
    public Task CompleteRunAsync(string sessionId, SessionRunOutcome outcome, CancellationToken cancellation = default) =>
        Ask<SessionView>(new InMemorySessionCommands.CompleteRun(CheckId(sessionId), outcome), cancellation);

    private async Task<T> Ask<T>(object command, CancellationToken cancellation)
    {
        var answer = await _sessions.Ask<object>(command, AskTimeout, cancellation);
        return answer switch
        {
            T typed => typed,
            Status.Failure failure => throw failure.Cause,
            _ => throw new InvalidOperationException($"Unexpected answer {answer.GetType().Name} from the session actor."),
        };
    }

    /// <summary>The same rules as the sharded sessions (<see cref="PersonaNames"/>), refused as <see cref="InvalidFieldException"/>.</summary>
    private static string CheckId(string sessionId)
    {
        InvalidFieldException.CheckNames(sessionId, null, null);
        return sessionId;
    }

    private static string CheckNames(string persona, string? chatMode)
    {
        InvalidFieldException.CheckNames(null, persona, chatMode);
        return persona;
    }
}

/// <summary>The messages of the in-memory session actors; they never leave the process.</summary>
public static class InMemorySessionCommands
{
    /// <summary>A command for one session.</summary>
    public interface ISessionCommand
    {
        /// <summary>The session the command is for.</summary>
        string SessionId { get; }
    }

    /// <summary>Asks for the session's view.</summary>
    /// <param name="SessionId">The session.</param>
    public sealed record Get(string SessionId) : ISessionCommand;

    /// <summary>Switches the session's persona.</summary>
    /// <param name="SessionId">The session.</param>
    /// <param name="Persona">The new persona.</param>
    /// <param name="ChatMode">The new chat mode.</param>
    public sealed record SwitchPersona(string SessionId, string Persona, string? ChatMode) : ISessionCommand;

    /// <summary>Begins a run in the session.</summary>
    /// <param name="SessionId">The session.</param>
    /// <param name="Workflow">The workflow run.</param>
    /// <param name="RunId">The run.</param>
    /// <param name="Context">The run's context before the session stamps it.</param>
    public sealed record BeginRun(string SessionId, string Workflow, RunId RunId, WorkflowContext Context) : ISessionCommand;

    /// <summary>Reports how a run of the session ended.</summary>
    /// <param name="SessionId">The session.</param>
    /// <param name="Outcome">How the run ended and what it used.</param>
    public sealed record CompleteRun(string SessionId, SessionRunOutcome Outcome) : ISessionCommand;
}

/// <summary>Parent of the session actors: creates one per session id on first use and forwards commands to it.</summary>
internal sealed class InMemorySessionsActor : ReceiveActor
{
    private readonly Dictionary<string, IActorRef> _sessions = new(StringComparer.Ordinal);

    public InMemorySessionsActor()
    {
        Receive<InMemorySessionCommands.ISessionCommand>(command => SessionFor(command.SessionId).Forward(command));
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new InMemorySessionsActor());

    private IActorRef SessionFor(string sessionId)
    {
        if (_sessions.TryGetValue(sessionId, out var session)) return session;
        session = Context.ActorOf(InMemorySessionActor.Props(sessionId), Uri.EscapeDataString(sessionId));
        _sessions[sessionId] = session;
        return session;
    }
}

/// <summary>One session: its persona, chat mode, the history of switches and what its runs used.</summary>
internal sealed class InMemorySessionActor : ReceiveActor
{
    private readonly string _id;
    private readonly List<PersonaSwitch> _switches = [];
    private readonly HashSet<RunId> _open = [];
    private string? _persona;
    private string? _chatMode;
    private int _runsStarted;
    private int _runsFinished;
    private long _tokens;
    private decimal _costUsd;

    public InMemorySessionActor(string id)
    {
        _id = id;
        Receive<InMemorySessionCommands.Get>(_ => Sender.Tell(View()));
        Receive<InMemorySessionCommands.SwitchPersona>(command =>
        {
            Switch(command.Persona, command.ChatMode);
            Sender.Tell(View());
        });
        Receive<InMemorySessionCommands.BeginRun>(command =>
        {
            _runsStarted++;
            _open.Add(command.RunId);
            var context = command.Context with { SessionId = _id };
            if (_persona is not null) context = context.WithPersona(_persona, _chatMode);
            Sender.Tell(context);
        });
        Receive<InMemorySessionCommands.CompleteRun>(command =>
        {
            if (_open.Remove(command.Outcome.RunId))
            {
                _runsFinished++;
                _tokens += command.Outcome.InputTokens + command.Outcome.OutputTokens;
                _costUsd += command.Outcome.CostUsd ?? 0m;
            }
            Sender.Tell(View());
        });
    }

    public static Props Props(string id) => Akka.Actor.Props.Create(() => new InMemorySessionActor(id));

    private void Switch(string persona, string? chatMode)
    {
        if (persona == _persona && chatMode == _chatMode) return;
        _switches.Add(new PersonaSwitch(_persona ?? TelemetryNames.NoPersona, persona, chatMode, Context.System.Scheduler.Now));
        _persona = persona;
        _chatMode = chatMode;
    }

    private SessionView View() => new(_id, _persona, _chatMode, _switches.ToList(), _runsStarted, _runsFinished, _tokens, _costUsd);
}

using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using TtaActors.Telemetry;
using static TtaActors.Actors.Sessions.PersonaSessionCommands;
using static TtaActors.Actors.Sessions.PersonaSessionEvents;
using static TtaActors.Actors.Sessions.PersonaSessionReplies;

namespace TtaActors.Actors.Sessions;

/// <summary>Settings shared by every session entity of a node.</summary>
public sealed record PersonaSessionSettings
{
    /// <summary>A snapshot is saved after every this many events, so recovery replays at most this many.</summary>
    public int SnapshotEvery { get; init; } = 100;

    /// <summary>The clock of event times; the system clock by default.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// One persona session, event-sourced: its persona, the history of switches, the runs started and finished in it and
/// what each persona's runs used. A command is answered only once its event is in the journal, so an answered change
/// is never lost.
/// </summary>
public sealed class PersonaSessionActor : ReceivePersistentActor
{
    /// <summary>The persistence id of a session is this prefix and the session id.</summary>
    public const string PersistenceIdPrefix = "persona-session-";

    private readonly string _sessionId;
    private readonly PersonaSessionSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private PersonaSessionState _state;
    private IActorRef? _awaitingJournal;
    private bool _countedActive;

    /// <param name="sessionId">The session this entity is (its entity id).</param>
    /// <param name="settings">The node's session settings.</param>
    public PersonaSessionActor(string sessionId, PersonaSessionSettings settings)
    {
        _sessionId = sessionId;
        _settings = settings;
        _state = PersonaSessionState.Empty(sessionId);
        PersistenceId = PersistenceIdPrefix + sessionId;

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is PersonaSessionState snapshot) _state = snapshot;
        });
        Recover<IEvent>(@event => _state = _state.Apply(@event));
        Recover<RecoveryCompleted>(_ =>
        {
            _countedActive = true;
            TtaInstrumentation.PersonaSessionsActive.Add(1);
        });
        Become(Active);
    }

    /// <summary><see cref="PersistenceIdPrefix"/> and the session id.</summary>
    public override string PersistenceId { get; }

    /// <summary>
    /// The props of one session entity. A producer rather than <c>Props.Create(() =&gt; new ...)</c>: that form compiles
    /// an expression tree for every argument of every Props made, and a node makes one per session it starts (the
    /// compiling and the finalizing of the dynamic methods it leaves behind were most of the CPU of starting a session).
    /// </summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="settings">The node's settings; the defaults when null.</param>
    public static Props Props(string sessionId, PersonaSessionSettings? settings = null) =>
        Akka.Actor.Props.CreateBy(new Producer(sessionId, settings ?? new PersonaSessionSettings()));

    private sealed class Producer(string sessionId, PersonaSessionSettings settings) : IIndirectActorProducer
    {
        public Type ActorType => typeof(PersonaSessionActor);

        public ActorBase Produce() => new PersonaSessionActor(sessionId, settings);

        public void Release(ActorBase actor) { }
    }

    private void Active()
    {
        Command<GetSession>(_ => Sender.Tell(_state));
        Command<SwitchPersona>(Switch);
        Command<BeginRun>(Begin);
        Command<CompleteRun>(Complete);
        Command<SetTokenBudget>(SetBudget);
        Command<SaveSnapshotSuccess>(saved =>
            DeleteSnapshots(new SnapshotSelectionCriteria(saved.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(failed =>
            _log.Warning(failed.Cause, "Session {0}: snapshot at event {1} was not saved; recovery replays more events until the next one succeeds.",
                _sessionId, failed.Metadata.SequenceNr));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(_ => { });
        CommandAny(message => Sender.Tell(new Refused(_sessionId, RefusalCodes.UnknownCommand,
            $"Session '{_sessionId}' does not understand a {message.GetType().Name} message; it accepts GetSession, SwitchPersona, " +
            "BeginRun, CompleteRun and SetTokenBudget.")));
    }

    private void Switch(SwitchPersona command)
    {
        var problem = PersonaNames.Problem("persona", command.Persona)
                      ?? (command.ChatMode is null ? null : PersonaNames.Problem("chat mode", command.ChatMode));
        if (problem is not null)
        {
            Sender.Tell(new Refused(_sessionId, RefusalCodes.InvalidName, $"Session '{_sessionId}': {problem}"));
            return;
        }
        if (command.Persona == _state.Persona && command.ChatMode == _state.ChatMode)
        {
            Sender.Tell(_state);
            return;
        }
        PersistThenReply(new PersonaSwitched(_state.PersonaKey, command.Persona, command.ChatMode, Now()), () => _state);
    }

    private void Begin(BeginRun command)
    {
        if (_state.BudgetProblem() is { } problem)
        {
            Sender.Tell(new Refused(_sessionId, RefusalCodes.BudgetExceeded, problem));
            return;
        }
        PersistThenReply(new RunStarted(command.RunId, command.Workflow, _state.PersonaKey, _state.ChatMode, Now()),
            () => new RunAdmitted(_sessionId, command.RunId, _state.Persona, _state.ChatMode,
                _state.TokenBudgets.TryGetValue(_state.PersonaKey, out var budget) ? budget : null, _state.UsageOf(_state.PersonaKey).Tokens));
    }

    private void Complete(CompleteRun command)
    {
        if (!_state.IsOpen(command.RunId))
        {
            Sender.Tell(new Refused(_sessionId, RefusalCodes.UnknownRun,
                $"Session '{_sessionId}' has no open run {command.RunId}: it was never begun here or has already been completed."));
            return;
        }
        PersistThenReply(new RunFinished(command.RunId, command.Succeeded, Math.Max(0, command.InputTokens), Math.Max(0, command.OutputTokens),
            Math.Max(0m, command.CostUsd), Now()), () => _state);
    }

    private void SetBudget(SetTokenBudget command)
    {
        if (PersonaNames.Problem("persona", command.Persona) is { } problem)
        {
            Sender.Tell(new Refused(_sessionId, RefusalCodes.InvalidName, $"Session '{_sessionId}': {problem}"));
            return;
        }
        if (command.MaxTokens is < 0)
        {
            Sender.Tell(new Refused(_sessionId, RefusalCodes.InvalidName,
                $"Session '{_sessionId}': a token budget cannot be negative ({command.MaxTokens}); give 0 or more, or null to remove it."));
            return;
        }
        PersistThenReply(new TokenBudgetSet(command.Persona, command.MaxTokens, Now()), () => _state);
    }

    private void PersistThenReply(IEvent @event, Func<object> reply)
    {
        _awaitingJournal = Sender;
        Persist(@event, persisted =>
        {
            _state = _state.Apply(persisted);
            _awaitingJournal = null;
            Sender.Tell(reply());
            if (persisted is PersonaSwitched switched) RecordSwitch(switched);
            if (LastSequenceNr % _settings.SnapshotEvery == 0) SaveSnapshot(_state);
        });
    }

    private static void RecordSwitch(PersonaSwitched switched)
    {
        var counter = TtaInstrumentation.PersonaSwitches;
        if (!counter.Enabled) return;
        counter.Add(1, new TagList
        {
            { TelemetryNames.Labels.FromPersona, LabelValueBound.Personas.Bound(TelemetryNames.Labels.FromPersona, switched.From) },
            { TelemetryNames.Labels.ToPersona, LabelValueBound.Personas.Bound(TelemetryNames.Labels.ToPersona, switched.To) },
            { TelemetryNames.Labels.ChatMode, switched.ChatMode is { } chatMode
                ? LabelValueBound.ChatModes.Bound(TelemetryNames.Labels.ChatMode, chatMode) : TelemetryNames.NoPersona },
        });
    }

    private DateTimeOffset Now() => _settings.Time.GetUtcNow();

    /// <summary>Refuses the waiting command with <see cref="RefusalCodes.JournalUnavailable"/>; nothing changed.</summary>
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        _awaitingJournal?.Tell(new Refused(_sessionId, RefusalCodes.JournalUnavailable,
            $"Session '{_sessionId}': the journal did not store {@event.GetType().Name} ({cause.Message}); nothing changed. " +
            "Check that the database is reachable and retry."));
        _awaitingJournal = null;
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    /// <summary>Refuses the waiting command with <see cref="RefusalCodes.JournalUnavailable"/>; nothing changed.</summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        _awaitingJournal?.Tell(new Refused(_sessionId, RefusalCodes.JournalUnavailable,
            $"Session '{_sessionId}': the journal rejected {@event.GetType().Name} ({cause.Message}); nothing changed."));
        _awaitingJournal = null;
        base.OnPersistRejected(cause, @event, sequenceNr);
    }

    /// <summary>Logs the failure; the session stays stopped until its next message.</summary>
    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        _log.Error(reason, "Session {0} could not be recovered from the journal ({1}); it stays stopped until its next message. " +
                           "Check that the database is reachable and that every node runs a compatible version.", _sessionId, reason.Message);
        base.OnRecoveryFailure(reason, message);
    }

    /// <summary>Counts the session as no longer active.</summary>
    protected override void PostStop()
    {
        if (_countedActive) TtaInstrumentation.PersonaSessionsActive.Add(-1);
        base.PostStop();
    }
}

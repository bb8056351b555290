using System.Collections.Immutable;
using System.Text.Json.Serialization;
using TtaActors.Actors.Execution;
using TtaActors.Telemetry;
using static TtaActors.Actors.Sessions.PersonaSessionEvents;

namespace TtaActors.Actors.Sessions;

/// <summary>What the runs of one persona used in a session.</summary>
public sealed record PersonaUsage(int Runs, long InputTokens, long OutputTokens, decimal CostUsd)
{
    /// <summary>Nothing used yet.</summary>
    public static readonly PersonaUsage None = new(0, 0, 0, 0m);

    /// <summary>Input plus output tokens.</summary>
    [JsonIgnore]
    public long Tokens => InputTokens + OutputTokens;
}

/// <summary>
/// The state of one persona session: a fold over its events, also its snapshot. Sorted collections keep two states
/// built from the same events byte-for-byte identical once serialised.
/// </summary>
public sealed record PersonaSessionState : IPersonaSessionMessage
{
    /// <summary>The session's id.</summary>
    public required string SessionId { get; init; }
    /// <summary>The current persona; null before the first switch.</summary>
    public string? Persona { get; init; }
    /// <summary>The current chat mode.</summary>
    public string? ChatMode { get; init; }
    /// <summary>Every persona switch, oldest first.</summary>
    public ImmutableList<PersonaSwitch> Switches { get; init; } = ImmutableList<PersonaSwitch>.Empty;
    /// <summary>Runs begun in the session.</summary>
    public int RunsStarted { get; init; }
    /// <summary>Runs ended in the session, failed ones included.</summary>
    public int RunsFinished { get; init; }
    /// <summary>Runs that ended with a failure.</summary>
    public int RunsFailed { get; init; }
    /// <summary>What each persona's runs used, by persona.</summary>
    public ImmutableSortedDictionary<string, PersonaUsage> UsageByPersona { get; init; } = ImmutableSortedDictionary<string, PersonaUsage>.Empty;
    /// <summary>Token budgets, by persona; a persona without one has no limit.</summary>
    public ImmutableSortedDictionary<string, long> TokenBudgets { get; init; } = ImmutableSortedDictionary<string, long>.Empty;

    /// <summary>Runs started and not yet finished, by run id, with the persona whose totals they count for.</summary>
    public ImmutableSortedDictionary<string, string> OpenRuns { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    /// <summary>The state of a session that has no events yet.</summary>
    public static PersonaSessionState Empty(string sessionId) => new() { SessionId = sessionId };

    /// <summary>The persona runs are accounted to: the current one, or <see cref="TelemetryNames.NoPersona"/>.</summary>
    [JsonIgnore]
    public string PersonaKey => Persona ?? TelemetryNames.NoPersona;

    /// <summary>Tokens used by all personas' runs.</summary>
    [JsonIgnore]
    public long TotalTokens => UsageByPersona.Values.Sum(usage => usage.Tokens);

    /// <summary>Cost of all personas' runs, in USD.</summary>
    [JsonIgnore]
    public decimal TotalCostUsd => UsageByPersona.Values.Sum(usage => usage.CostUsd);

    /// <summary>What <paramref name="persona"/>'s runs used; <see cref="PersonaUsage.None"/> when it has none.</summary>
    public PersonaUsage UsageOf(string persona) => UsageByPersona.GetValueOrDefault(persona, PersonaUsage.None);

    /// <summary>Null when the current persona may start another run, else why not.</summary>
    public string? BudgetProblem()
    {
        if (!TokenBudgets.TryGetValue(PersonaKey, out var budget)) return null;
        var used = UsageOf(PersonaKey).Tokens;
        return used < budget
            ? null
            : $"Session '{SessionId}': persona '{PersonaKey}' has used {used} of its {budget}-token budget, so no further run is started. " +
              "Raise the budget, remove it, or switch to another persona.";
    }

    /// <summary>The state after <paramref name="event"/>.</summary>
    public PersonaSessionState Apply(IEvent @event) => @event switch
    {
        PersonaSwitched switched => this with
        {
            Persona = switched.To,
            ChatMode = switched.ChatMode,
            Switches = Switches.Add(new PersonaSwitch(switched.From, switched.To, switched.ChatMode, switched.At)),
        },
        RunStarted started => this with
        {
            RunsStarted = RunsStarted + 1,
            OpenRuns = OpenRuns.SetItem(started.RunId.ToString(), started.Persona),
        },
        RunFinished finished => Finish(finished),
        TokenBudgetSet budget => this with
        {
            TokenBudgets = budget.MaxTokens is { } max ? TokenBudgets.SetItem(budget.Persona, max) : TokenBudgets.Remove(budget.Persona),
        },
        _ => throw new ArgumentException($"Session '{SessionId}' has no rule for event {@event.GetType().Name}.", nameof(@event)),
    };

    private PersonaSessionState Finish(RunFinished finished)
    {
        var key = finished.RunId.ToString();
        var persona = OpenRuns.GetValueOrDefault(key, PersonaKey);
        var usage = UsageOf(persona);
        return this with
        {
            RunsFinished = RunsFinished + 1,
            RunsFailed = RunsFailed + (finished.Succeeded ? 0 : 1),
            OpenRuns = OpenRuns.Remove(key),
            UsageByPersona = UsageByPersona.SetItem(persona, new PersonaUsage(
                usage.Runs + 1, usage.InputTokens + finished.InputTokens, usage.OutputTokens + finished.OutputTokens,
                usage.CostUsd + finished.CostUsd)),
        };
    }

    /// <summary>Whether <paramref name="runId"/> was begun in the session and has not ended.</summary>
    public bool IsOpen(RunId runId) => OpenRuns.ContainsKey(runId.ToString());

    /// <summary>The state as <see cref="IPersonaSessions"/> reports it.</summary>
    public SessionView ToView() =>
        new(SessionId, Persona, ChatMode, Switches, RunsStarted, RunsFinished, TotalTokens, TotalCostUsd);
}
